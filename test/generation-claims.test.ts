import { afterAll, beforeAll, expect, it } from "vitest";
import { type FakeChatServer, startFakeChatServer } from "./fakes/chat-completions-server.js";
import { ingestFiles, settledDataset } from "./helpers/ingest.js";
import { createTestApp, type TestApp } from "./helpers/test-app.js";

const TOPICS = ["invoices", "refunds", "shipping", "returns"];
let fake: FakeChatServer;
let t: TestApp;

beforeAll(async () => {
  // Slow answers, so that a second delivery of a chunk's job arrives while the first is still asking.
  fake = await startFakeChatServer({ apiKey: "test-key", latencyMs: 400 });
  t = await createTestApp({
    workers: true,
    settings: { llm: { baseURL: `${fake.url}/v1`, model: "gpt-4o-mini", apiKey: "test-key" } },
  });
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

it("asks the LLM once per chunk even when the chunk's job is delivered twice at once", async () => {
  const owner = await t.signUp("claims@example.com");
  const projectId = (await owner.call("POST", "/api/projects", { name: "p" })).body.id;
  await ingestFiles(
    t,
    owner.token,
    projectId,
    Object.fromEntries(
      TOPICS.map((topic) => [
        `${topic}.md`,
        `# ${topic}\n\nThe ${topic} policy is reviewed every quarter.\n`,
      ]),
    ),
  );
  const { chunks } = (await owner.call("GET", `/api/projects/${projectId}/chunks?limit=100`)).body;
  expect(chunks).toHaveLength(TOPICS.length);
  const before = fake.stats.ok;

  const started = await owner.call("POST", `/api/projects/${projectId}/datasets`, {
    datasetName: "d",
    mode: "qa",
    pairsPerChunk: 1,
    generator: "llm",
  });
  expect(started.status).toBe(202);
  // What a resume or a queue retry does: the same chunks' jobs, delivered again while the first run.
  await Promise.all(
    chunks.map((chunk: { id: string }) =>
      t.services.generation.generateChunk({ userId: owner.userId }, started.body.id, chunk.id),
    ),
  );
  const dataset = await settledDataset(owner.call, started.body.id);
  expect(dataset.progress).toMatchObject({ done: TOPICS.length, pairs: TOPICS.length });
  expect(fake.stats.ok - before).toBe(TOPICS.length);
});
