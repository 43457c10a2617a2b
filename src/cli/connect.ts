import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type Config, DEFAULT_DATA_DIR } from "../config.js";
import type { Runtime } from "../context.js";
import { DataDirBusyError, settledLockHolder } from "../db/data-dir-lock.js";
import { silentLogger } from "../logger.js";
import { ApiClient, CliError } from "./api-client.js";
import { ensureCliToken, readCliToken } from "./cli-token.js";

// The database and the server's app are loaded when a command first needs them, not with this module:
// `--help`, `--version` and every command sent to a running server then start in ~0.5 s instead of ~1.2 s.

// Commands take it from here; it is defined with the API client, which raises it too and has no need
// of this module's database and server.
export { CliError };

/** Any base URL works for the in-process app: requests never leave the process. */
const IN_PROCESS_URL = "http://fineflow.local";

/**
 * Opens the database for one command and closes it after, whatever happens. Used by the operator commands
 * (`user create`, `token create --email`) that act before any user can.
 */
export async function withRuntime<T>(
  config: Config,
  command: string,
  work: (runtime: Runtime) => Promise<T>,
) {
  const { openRuntime } = await import("../context.js");
  const started =
    !config.DATABASE_URL && config.FINEFLOW_DATA_DIR === DEFAULT_DATA_DIR && !existsSync(DEFAULT_DATA_DIR);
  const runtime = await openRuntime(config, command, silentLogger);
  // No database was found here or above: one who meant the database made in another folder sees at once
  // that this is a new one, and where.
  if (started) {
    process.stderr.write(
      `Started a new FineFlow database in ${resolve(DEFAULT_DATA_DIR)} (none in this folder or above it; FINEFLOW_DATA_DIR sets another).\n`,
    );
  }
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

/**
 * Runs `work` with an API client, choosing how to reach FineFlow:
 * - FINEFLOW_URL: a remote server, as FINEFLOW_TOKEN's user;
 * - the embedded database while `fineflow serve` runs on it: that server, as the local owner (PGlite must
 *   not be opened twice);
 * - otherwise the database itself, through the in-process app: as FINEFLOW_TOKEN's user on PostgreSQL,
 *   as the local owner on the embedded database; with `worker`, background jobs run in this process.
 */
export async function withClient<T>(
  config: Config,
  command: string,
  work: (client: ApiClient) => Promise<T>,
  options: { worker?: boolean } = {},
) {
  if (config.FINEFLOW_URL) {
    return work(new ApiClient(fetch, config.FINEFLOW_URL, requireToken(config)));
  }
  const server = config.DATABASE_URL ? undefined : await runningServer(config);
  if (server) return work(server);
  try {
    return await withRuntime(config, command, async ({ services, database, settings, startWorkers }) => {
      // No server runs the background work for an in-process client: commands that wait for it run it here.
      if (options.worker) await startWorkers();
      const token = config.DATABASE_URL
        ? requireToken(config)
        : await ensureCliToken(config.FINEFLOW_DATA_DIR, services.auth);
      const { createApp } = await import("../server/app.js");
      const app = createApp({ services, logger: silentLogger, databaseKind: database.kind, settings });
      return work(new ApiClient((request) => app.fetch(request), IN_PROCESS_URL, token));
    });
  } catch (error) {
    // `serve` took the database between the look above and this command's own try (the lock is taken
    // before any work is done): go through it once it listens.
    if (!(error instanceof DataDirBusyError && error.holder.command === "serve")) throw error;
    const started = await runningServer(config);
    if (!started) throw error;
    return work(started);
  }
}

/** A client of the `serve` running on the embedded database, once it listens; undefined if none runs. */
async function runningServer(config: Config): Promise<ApiClient | undefined> {
  const holder = await settledLockHolder(config.FINEFLOW_DATA_DIR);
  if (!holder?.url) return undefined;
  const token = readCliToken(config.FINEFLOW_DATA_DIR);
  if (!token) throw new DataDirBusyError(config.FINEFLOW_DATA_DIR, holder);
  return new ApiClient(fetch, holder.url, token);
}

function requireToken(config: Config): string {
  if (config.FINEFLOW_TOKEN) return config.FINEFLOW_TOKEN;
  throw new CliError(
    "Set FINEFLOW_TOKEN to your API token: create one with `fineflow token create --email <you> --name cli`.",
  );
}
