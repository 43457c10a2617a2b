import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Config, ConfigError } from "./config.js";

/**
 * Where the secret that encrypts API keys at rest comes from: `API_KEY_ENCRYPTION_SECRET`; else, on the
 * embedded database only, a random secret generated once into `<data dir>/secret.key` (mode 0600), kept
 * beside the database it protects. Server mode has no such default: many processes on many machines must
 * share one secret, so the operator sets it.
 */
export const secretFilePath = (dataDir: string) => join(dataDir, "secret.key");
/** A rotation's new secret, written before any key is re-encrypted and renamed over `secret.key` after. */
export const stagedSecretFilePath = (dataDir: string) => join(dataDir, "secret.key.new");

const MIN_LENGTH = 32;

/** 256 random bits, as 43 base64url characters. */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function resolveEncryptionSecret(config: Config): string {
  if (config.API_KEY_ENCRYPTION_SECRET) return config.API_KEY_ENCRYPTION_SECRET;
  if (config.DATABASE_URL) {
    throw new ConfigError(
      "API_KEY_ENCRYPTION_SECRET must be set with DATABASE_URL: every server and worker needs the same secret " +
        "(32+ characters, e.g. from `openssl rand -base64 32`) to encrypt and read users' API keys.",
    );
  }
  const path = secretFilePath(config.FINEFLOW_DATA_DIR);
  const existing = readSecretFile(path);
  if (existing !== undefined) return existing;
  const secret = generateSecret();
  try {
    writeSecretFile(path, secret);
  } catch (error) {
    // Created by someone else in between: theirs is the secret.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readSecretFile(path) ?? secret;
    throw error;
  }
  return secret;
}

/** The secret in `path`, or undefined when there is no such file; refuses a file others can read. */
export function readSecretFile(path: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw new ConfigError(
      `${path} holds the secret that encrypts API keys but other users may read it (mode ${(mode & 0o777).toString(8)}): run \`chmod 600 ${path}\`.`,
    );
  }
  const secret = readFileSync(path, "utf8").trim();
  if (secret.length < MIN_LENGTH) {
    throw new ConfigError(`${path} must hold a secret of at least ${MIN_LENGTH} characters.`);
  }
  return secret;
}

/** Creates `path` with mode 0600, failing (EEXIST) rather than overwriting, and flushes it to disk. */
function writeSecretFile(path: string, secret: string): void {
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: "wx" });
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * First step of rotating the embedded secret: writes the new secret beside `secret.key`, before any key
 * is re-encrypted under it. A rotation that was interrupted left this file: it is resumed with its secret
 * (`next` may be omitted, or must be the same). With neither, a new random secret is staged.
 */
export function stageRotationSecret(dataDir: string, next?: string): string {
  const path = stagedSecretFilePath(dataDir);
  const staged = readSecretFile(path);
  if (staged !== undefined) {
    if (next !== undefined && next !== staged) {
      throw new ConfigError(
        `An interrupted rotation to another secret is pending in ${path}: run \`fineflow keys rotate\` again ` +
          "with that secret, or with no input, to finish it first.",
      );
    }
    return staged;
  }
  const secret = next ?? generateSecret();
  writeSecretFile(path, secret);
  return secret;
}

/** Last step of rotating the embedded secret, once every key is under the new one: an atomic rename. */
export function commitRotationSecret(dataDir: string): void {
  renameSync(stagedSecretFilePath(dataDir), secretFilePath(dataDir));
  // The rename itself is durable only once the directory is flushed (not possible on Windows).
  if (process.platform === "win32") return;
  const fd = openSync(dataDir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether the secret comes from `secret.key`: the embedded database with no API_KEY_ENCRYPTION_SECRET. */
export function embeddedSecretIsInUse(config: Config): boolean {
  return !config.DATABASE_URL && !config.API_KEY_ENCRYPTION_SECRET;
}
