import { afterAll, beforeAll, expect, it } from "vitest";
import { createServices, type Services } from "../src/context.js";
import { UsersRepository } from "../src/db/repositories/users-repository.js";
import { silentLogger } from "../src/logger.js";
import { Queue } from "../src/queue/queue.js";
import { hashToken } from "../src/services/auth-service.js";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database.js";

let database: TestDatabase;
let services: Services;
let queue: Queue;

beforeAll(async () => {
  database = await createTestDatabase();
  services = createServices(database);
  queue = await Queue.start(database, silentLogger, { concurrency: 2, pollingIntervalSeconds: 0.5 });
  await queue.work(services.jobs.all);
});
afterAll(async () => {
  await queue.stop();
  await database.close();
});

async function settled(id: string) {
  for (let i = 0; i < 120; i++) {
    const job = await queue.state(services.jobs.purgeExpiredSessions, id);
    if (job && ["completed", "failed"].includes(job.state)) return job;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`job ${id} did not finish`);
}

it("runs a queued job through a worker on this backend, end to end", async () => {
  const user = await services.auth.createUser({ email: "queue@example.com", password: "long enough" });
  const users = new UsersRepository(database.db);
  await users.insertSession(user.id, hashToken("expired"), new Date(Date.now() - 1000));
  const live = await services.auth.createSession(user.id);

  const id = await queue.send(services.jobs.purgeExpiredSessions, {});
  const job = await settled(id);

  expect(job).toEqual({ state: "completed", output: { purged: 1 } });
  expect(await services.auth.userForSession("expired")).toBeUndefined();
  expect((await services.auth.userForSession(live))?.email).toBe("queue@example.com");
});
