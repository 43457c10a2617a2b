import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout } from "node:timers/promises";

/**
 * PGlite must never be opened by two processes at once: a second one would corrupt the database or fail
 * with a cryptic error. The process that opens an embedded data directory holds this lock file; a server
 * also writes its URL there, so that CLI commands can go through its HTTP API instead.
 */
export interface LockHolder {
  pid: number;
  command: string;
  /** Set by `fineflow serve` once it listens. */
  url?: string;
}

export class DataDirBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `The embedded database in ${dataDir} is in use by \`fineflow ${holder.command}\` (pid ${holder.pid}). ` +
        "Wait for it to finish, or stop it, and try again.",
    );
    this.name = "DataDirBusyError";
  }
}

export interface DataDirLock {
  update(patch: Partial<LockHolder>): void;
  release(): void;
}

const lockPath = (dataDir: string) => join(dataDir, "fineflow.lock");

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The live holder of the data directory's lock, if any; a lock left by a dead process is ignored. */
export function readLockHolder(dataDir: string): LockHolder | undefined {
  let holder: LockHolder;
  try {
    holder = JSON.parse(readFileSync(lockPath(dataDir), "utf8")) as LockHolder;
  } catch {
    return undefined;
  }
  return typeof holder.pid === "number" && isAlive(holder.pid) ? holder : undefined;
}

/**
 * The live holder once it can be asked: a `serve` still starting (opening the database, migrating) holds the
 * lock but has no URL yet, so a command run beside `npm start` waits for it, up to `timeoutMs`, rather than
 * being refused.
 */
export function settledLockHolder(dataDir: string, timeoutMs = 60_000): Promise<LockHolder | undefined> {
  return holderWhen(dataDir, (holder) => holder?.command !== "serve" || holder.url !== undefined, timeoutMs);
}

/**
 * For `serve`, which runs for long: waits while a command (an `ingest`, say) holds the data directory,
 * telling `onWait` once what it waits for, rather than refusing to start. Another server is not waited for:
 * taking the lock then refuses, as it should.
 */
export async function whenDataDirFree(dataDir: string, onWait: (holder: LockHolder) => void): Promise<void> {
  const free = (holder: LockHolder | undefined) => holder === undefined || holder.command === "serve";
  const holder = readLockHolder(dataDir);
  if (free(holder)) return;
  onWait(holder as LockHolder);
  await holderWhen(dataDir, free, Number.POSITIVE_INFINITY);
}

/** The lock's live holder (or none) once `ready` says so of it, or whatever it is when `timeoutMs` is up. */
async function holderWhen(
  dataDir: string,
  ready: (holder: LockHolder | undefined) => boolean,
  timeoutMs: number,
): Promise<LockHolder | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const holder = readLockHolder(dataDir);
    if (ready(holder) || Date.now() >= deadline) return holder;
    await setTimeout(POLL_MS);
  }
}

const POLL_MS = 100;

export function acquireDataDirLock(dataDir: string, command: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = lockPath(dataDir);
  let holder: LockHolder = { pid: process.pid, command };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeFileSync(fd, JSON.stringify(holder));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
      const current = readLockHolder(dataDir);
      if (current) throw new DataDirBusyError(dataDir, current);
      unlinkSync(path); // left by a process that died
    }
  }
  const release = () => {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
    process.off("exit", release);
  };
  process.on("exit", release);
  return {
    update(patch) {
      holder = { ...holder, ...patch };
      writeFileSync(path, JSON.stringify(holder), { mode: 0o600 });
    },
    release,
  };
}
