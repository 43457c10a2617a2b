import PgBoss from "pg-boss";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../src/db/client.js";
import { UsersRepository } from "../src/db/repositories/users-repository.js";
import { silentLogger } from "../src/logger.js";
import { type JobDefinition, Queue } from "../src/queue/queue.js";
import { hashToken } from "../src/services/auth-service.js";
import { createTestApp, type TestApp } from "./helpers/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ workers: true });
});
afterAll(() => t.close());

async function settled(id: string) {
  for (let i = 0; i < 120; i++) {
    const job = await t.queue.state(t.services.jobs.purgeExpiredSessions, id);
    if (job && ["completed", "failed"].includes(job.state)) return job;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`job ${id} did not finish`);
}

/** Polls until `ready` holds, for at most ~5 s. */
async function until(ready: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("timed out");
}

/**
 * A job as an earlier process leaves it when it dies running it: taken by that process's worker (pg-boss,
 * as any process would, over the same database), then never finished.
 */
async function takenByAProcessThatDies(name: string): Promise<void> {
  const earlier = new PgBoss({ db: { executeSql: (text, values) => t.database.executeSql(text, values) } });
  await earlier.start();
  expect(await earlier.fetch(name)).toHaveLength(1);
  await earlier.stop({ graceful: false, close: false, wait: true });
}

it("runs a queued job through a worker on this backend, end to end", async () => {
  const { auth, jobs } = t.services;
  const user = await auth.createUser({ email: "queue@example.com", password: "long enough" });
  const users = new UsersRepository(t.database.db);
  await users.insertSession(user.id, hashToken("expired"), new Date(Date.now() - 1000));
  const live = await auth.createSession(user.id);

  const id = await t.queue.send(jobs.purgeExpiredSessions, {});
  const job = await settled(id);

  expect(job).toEqual({ state: "completed", output: { purged: 1 } });
  expect(await auth.userForSession("expired")).toBeUndefined();
  expect((await auth.userForSession(live))?.email).toBe("queue@example.com");
});

it("drains a backlog without waiting out the polling interval between jobs", async () => {
  // One worker polling once a minute: each job after the first would wait a minute if it did.
  const queue = new Queue(t.database, silentLogger, { concurrency: 1, pollingIntervalSeconds: 60 });
  const done: number[] = [];
  const job = {
    name: "test.backlog",
    backToBack: true,
    handle: async ({ n }: { n: number }) => done.push(n),
  };
  for (let n = 1; n <= 4; n++) await queue.send(job, { n });
  await queue.work([job as JobDefinition]);
  for (let i = 0; i < 100 && done.length < 4; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  await queue.stop();
  expect(done.sort()).toEqual([1, 2, 3, 4]);
});

it("runs no more of a kind at once than the kind allows, whatever the queue's concurrency", async () => {
  const queue = new Queue(t.database, silentLogger, { concurrency: 4, pollingIntervalSeconds: 0.5 });
  let running = 0;
  let most = 0;
  let done = 0;
  const job: JobDefinition = {
    name: "test.one-at-a-time",
    concurrency: 1,
    handle: async () => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running--;
      done++;
    },
  };
  for (let n = 0; n < 4; n++) await queue.send(job, {});
  await queue.work([job]);
  for (let i = 0; i < 100 && done < 4; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  await queue.stop();
  expect(done).toBe(4);
  expect(most).toBe(1);
});

it("queues a batch in one go and wakes the kind's workers for it, without waiting for their next poll", async () => {
  // Workers polling once a minute, already waiting when the batch comes: only a wake-up starts them.
  const queue = new Queue(t.database, silentLogger, { concurrency: 3, pollingIntervalSeconds: 60 });
  const done: number[] = [];
  let running = 0;
  let most = 0;
  const job: JobDefinition<{ n: number }> = {
    name: "test.batch",
    handle: async ({ n }) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running--;
      done.push(n);
    },
  };
  await queue.work([job as JobDefinition]);
  await queue.sendAll(job, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  for (let i = 0; i < 100 && done.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  await queue.stop();
  expect(done.sort()).toEqual([1, 2, 3]);
  expect(most).toBe(3);
});

it("retries at once the jobs an earlier process took and never finished, instead of after their expiry", async () => {
  const queue = new Queue(t.database, silentLogger, { concurrency: 1, pollingIntervalSeconds: 0.5 });
  const done: number[] = [];
  const job: JobDefinition<{ n: number }> = {
    name: "test.interrupted",
    handle: async ({ n }) => done.push(n),
  };
  await queue.send(job, { n: 1 });
  await takenByAProcessThatDies(job.name);

  await queue.retryInterrupted();
  await queue.work([job as JobDefinition]);
  await until(() => done.length === 1);
  await queue.stop();
  expect(done).toEqual([1]);
});

it("retries the job of a process that stopped beating, and leaves alone the one of a process still beating", async () => {
  const ran: string[] = [];
  let release = () => {};
  const job: JobDefinition = { name: "test.orphaned", handle: async () => ran.push("second") };
  // The first process, over a connection the test can cut: to the others it dies when its heartbeats stop.
  let cut = false;
  const connection: Database = {
    ...t.database,
    executeSql: (text, values) =>
      cut ? Promise.reject(new Error("connection lost")) : t.database.executeSql(text, values),
  };
  const first = new Queue(connection, silentLogger, { concurrency: 1, heartbeatSeconds: 0.1 });
  await first.work([
    {
      name: job.name,
      handle: () => {
        ran.push("first");
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    },
  ]);
  const second = new Queue(t.database, silentLogger, { concurrency: 1, pollingIntervalSeconds: 0.5 });
  const id = await second.send(job, {});
  await until(async () => {
    const { rows } = await t.database.executeSql("SELECT 1 FROM queue_workers WHERE $1 = ANY (job_ids)", [
      id,
    ]);
    return rows.length === 1;
  });
  await second.work([job]);

  // Running for over a second, and named in the first process's heartbeats: alive, not retried.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  expect(await second.retryOrphaned(1)).toBe(0);
  expect((await second.state(job, id))?.state).toBe("active");

  cut = true;
  await new Promise((resolve) => setTimeout(resolve, 1200));
  expect(await second.retryOrphaned(1)).toBe(1);
  // Completed once its handler has returned, which the queue records a moment after the handler ran.
  await until(async () => (await second.state(job, id))?.state === "completed");
  expect(ran).toEqual(["first", "second"]);

  cut = false;
  release();
  await first.stop();
  await second.stop();
});

it("retries a job taken by a process that died before its first heartbeat, once it has run a while", async () => {
  const queue = new Queue(t.database, silentLogger, { concurrency: 1, pollingIntervalSeconds: 0.5 });
  const done: number[] = [];
  const job: JobDefinition<{ n: number }> = {
    name: "test.never-named",
    handle: async ({ n }) => done.push(n),
  };
  await queue.send(job, { n: 1 });
  await takenByAProcessThatDies(job.name);

  // Just taken: its process may not have beaten yet.
  expect(await queue.retryOrphaned(60)).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 1200));
  expect(await queue.retryOrphaned(1)).toBe(1);
  await queue.work([job as JobDefinition]);
  await until(() => done.length === 1);
  await queue.stop();
  expect(done).toEqual([1]);
});

it("fails and retries a job that runs past its kind's expiry, and lets a kind with a longer one finish", async () => {
  const queue = new Queue(t.database, silentLogger, { concurrency: 1, pollingIntervalSeconds: 0.5 });
  const started: string[] = [];
  const slow = (name: string, expireInSeconds: number): JobDefinition => ({
    name,
    expireInSeconds,
    handle: async () => {
      started.push(name);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    },
  });
  const short = slow("test.short-expiry", 1);
  const long = slow("test.long-expiry", 60);
  await queue.work([short, long]);
  const shortId = await queue.send(short, {});
  const longId = await queue.send(long, {});
  await until(async () => (await queue.state(long, longId))?.state === "completed");
  // Failed at its expiry, and taken again (the handler itself cannot be stopped: it runs on meanwhile).
  await until(() => started.filter((name) => name === short.name).length >= 2);
  expect((await queue.state(short, shortId))?.state).not.toBe("completed");
  expect(started.filter((name) => name === long.name)).toHaveLength(1);
  await queue.stop();
});

it("never retries a job of its own process, even when that process's heartbeat is late", async () => {
  // One beat when it starts working, none after: as when its beat waits behind a long transaction.
  const queue = new Queue(t.database, silentLogger, { concurrency: 1, heartbeatSeconds: 3600 });
  let release = () => {};
  const job: JobDefinition = {
    name: "test.own-late-beat",
    handle: () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
  };
  await queue.work([job]);
  const id = await queue.send(job, {});
  await until(async () => (await queue.state(job, id))?.state === "active");
  await new Promise((resolve) => setTimeout(resolve, 1200));
  expect(await queue.retryOrphaned(1)).toBe(0);
  release();
  await until(async () => (await queue.state(job, id))?.state === "completed");
  await queue.stop();
});
