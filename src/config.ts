// zod's messages in plain words, before anything is parsed.
import "./core/plain-issues.js";
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { TRAINING_DEFAULTS } from "./core/training/lifecycle.js";

/** The embedded database's folder when FINEFLOW_DATA_DIR is unset and none is found above (see `loadConfig`). */
export const DEFAULT_DATA_DIR = "./.fineflow";

/** A whole number from `min` to `max`, every way of missing it told in the one `message`. */
const wholeNumber = (message: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number({ error: message }).int({ error: message }).min(min, message).max(max, message);
const port = wholeNumber("must be a whole number from 1 to 65535", 1, 65_535);

/**
 * The environment, parsed once at start-up and passed down. Nothing else reads `process.env`, so every
 * setting is documented here and a bad value stops start-up with a message naming the variable.
 */
export const configSchema = z.object({
  FINEFLOW_DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIR),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// or postgresql:// URL" })
    .optional(),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: port.default(8787),
  API_KEY_ENCRYPTION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** The CLI talks to this server instead of opening a database (with FINEFLOW_TOKEN). */
  FINEFLOW_URL: z.url().optional(),
  /** A personal API token (`fineflow token create`): who the CLI acts as, except on the embedded database. */
  FINEFLOW_TOKEN: z.string().startsWith("ff_", "must be a FineFlow API token (ff_…)").optional(),
  /** Documents larger than this fail with a reason instead of being processed. */
  FINEFLOW_MAX_DOCUMENT_MB: z.coerce.number().positive("must be a positive number of megabytes").default(50),
  /**
   * The heap a document's processing may use, on its own thread; a document that needs more fails with a
   * reason, and FineFlow goes on. Unset: Node's default limit.
   */
  FINEFLOW_ANALYSIS_MEMORY_MB: wholeNumber("must be a whole number of megabytes, at least 64", 64).optional(),
  FINEFLOW_QUEUE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  /** Seconds between two polls of a running training job at its provider (the seed's 30 s). */
  FINEFLOW_TRAINING_POLL_SECONDS: z.coerce
    .number()
    .min(0.1)
    .max(3600)
    .default(TRAINING_DEFAULTS.pollIntervalSeconds),
  /** Hours a job is tracked before polling pauses (resumable; the job itself is not failed). */
  FINEFLOW_TRAINING_MAX_TRACKING_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(TRAINING_DEFAULTS.maxTrackingHours),
  OPENAI_BASE_URL: z.url().optional(),
  TOGETHER_BASE_URL: z.url().optional(),
  FINEFLOW_LLM_BASE_URL: z.url().optional(),
  FINEFLOW_LLM_MODEL: z.string().min(1).optional(),
  /** Sent to FINEFLOW_LLM_BASE_URL; never logged. Local endpoints (Ollama, vLLM) may need none. */
  FINEFLOW_LLM_API_KEY: z.string().min(1).optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Parses the environment; on a bad value throws one `ConfigError` naming every offending variable. Without
 * FINEFLOW_DATA_DIR, the embedded database is the `.fineflow` folder of `cwd` or, as git finds `.git`, of
 * the nearest folder above it that has one: a command run in a subfolder (README's `cd d1-bundle`) used to
 * start a new, empty database there.
 */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  // An empty variable means "not set", as shells and .env files commonly leave them.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  present.FINEFLOW_DATA_DIR ??= nearestDataDir(cwd);
  const parsed = configSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration — ${problems.join("; ")}`);
}

/** `cwd`'s `.fineflow` as `DEFAULT_DATA_DIR`, else the nearest above it (absolute), else `DEFAULT_DATA_DIR`. */
function nearestDataDir(cwd: string): string {
  const here = resolve(cwd);
  for (let dir = here; ; dir = dirname(dir)) {
    if (isFolder(join(dir, DEFAULT_DATA_DIR)))
      return dir === here ? DEFAULT_DATA_DIR : join(dir, DEFAULT_DATA_DIR);
    if (dirname(dir) === dir) return DEFAULT_DATA_DIR;
  }
}

/** A file of that name is someone else's, not a database: the search goes on past it. */
const isFolder = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
