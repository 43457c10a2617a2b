import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireDataDirLock, type LockHolder, settledLockHolder, whenDataDirFree } from "./data-dir-lock.js";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-lock-"));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

describe("settledLockHolder", () => {
  it("waits for a starting server's URL, and gives the server once it has one", async () => {
    const lock = acquireDataDirLock(dataDir, "serve");
    try {
      const settled = settledLockHolder(dataDir);
      await setTimeout(300);
      lock.update({ url: "http://127.0.0.1:8787" });
      expect(await settled).toEqual({ pid: process.pid, command: "serve", url: "http://127.0.0.1:8787" });
    } finally {
      lock.release();
    }
  });

  it("gives a server that never listens as it is once the time is up, for the caller to refuse", async () => {
    const lock = acquireDataDirLock(dataDir, "serve");
    try {
      expect(await settledLockHolder(dataDir, 250)).toEqual({ pid: process.pid, command: "serve" });
    } finally {
      lock.release();
    }
  });

  it("does not wait for another command, which never listens, nor for a lock left by a process that died", async () => {
    const lock = acquireDataDirLock(dataDir, "ingest");
    try {
      // An hour to wait: the test would time out if it waited at all.
      expect(await settledLockHolder(dataDir, 3_600_000)).toEqual({ pid: process.pid, command: "ingest" });
    } finally {
      lock.release();
    }
    const dead = 2 ** 22 + 1; // above Linux's largest pid
    await writeFile(join(dataDir, "fineflow.lock"), JSON.stringify({ pid: dead, command: "serve" }));
    expect(await settledLockHolder(dataDir, 3_600_000)).toBeUndefined();
  });
});

describe("whenDataDirFree", () => {
  it("waits for a command to finish with the data directory, saying once what it waits for", async () => {
    const lock = acquireDataDirLock(dataDir, "ingest");
    const told: LockHolder[] = [];
    let free = false;
    const waited = whenDataDirFree(dataDir, (holder) => told.push(holder)).then(() => {
      free = true;
    });
    await setTimeout(300);
    expect(free).toBe(false);
    lock.release();
    await waited;
    expect(told).toEqual([{ pid: process.pid, command: "ingest" }]);
    // Free now: the server takes the lock.
    acquireDataDirLock(dataDir, "serve").release();
  });

  it("does not wait for another server, whose lock is then refused, nor when nobody holds it", async () => {
    const told: LockHolder[] = [];
    await whenDataDirFree(dataDir, (holder) => told.push(holder));
    const lock = acquireDataDirLock(dataDir, "serve");
    try {
      await whenDataDirFree(dataDir, (holder) => told.push(holder));
      expect(() => acquireDataDirLock(dataDir, "serve")).toThrow(/in use by `fineflow serve`/);
    } finally {
      lock.release();
    }
    expect(told).toEqual([]);
  });
});
