import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openPglite } from "../src/db/client.js";
import { type FakeChatServer, startFakeChatServer } from "./fakes/chat-completions-server.js";
import { CLI, cliEnv, runCli } from "./helpers/run-cli.js";

const CHUNKS = 12;
let dataDir: string;
let fake: FakeChatServer;
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-resume-"));
  // Slow enough that the run is still going when it is killed.
  fake = await startFakeChatServer({ apiKey: "test-key", latencyMs: 150 });
  env = {
    FINEFLOW_DATA_DIR: dataDir,
    FINEFLOW_LLM_BASE_URL: `${fake.url}/v1`,
    FINEFLOW_LLM_MODEL: "gpt-4o-mini",
    FINEFLOW_LLM_API_KEY: "test-key",
    FINEFLOW_QUEUE_CONCURRENCY: "2",
  };
  const docs = join(dataDir, "docs");
  await mkdir(docs);
  for (let i = 0; i < CHUNKS; i++) {
    await writeFile(
      join(docs, `topic-${i}.md`),
      `# Topic ${i}\n\nTopic ${i} is covered by policy number ${i * 17}. It is reviewed yearly.\n`,
    );
  }
  expect((await runCli(["project", "create", "p"], env)).code).toBe(0);
  expect((await runCli(["ingest", docs, "--project", "p"], env)).code).toBe(0);
});
afterAll(async () => {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

it("resumes a generation run whose process was killed, with no chunk lost and no pair duplicated", async () => {
  const args = [
    "generate",
    "--project",
    "p",
    "--dataset",
    "d1",
    "--mode",
    "qa",
    "--pairs-per-chunk",
    "1",
    "--json",
  ];
  const first = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env) });
  const exited = new Promise((resolve) => first.once("exit", resolve));
  for (let i = 0; i < 600 && fake.stats.ok < 4; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  first.kill("SIGKILL");
  await exited;
  const answeredBeforeCrash = fake.stats.ok;
  expect(answeredBeforeCrash).toBeGreaterThanOrEqual(4);
  expect(answeredBeforeCrash).toBeLessThan(CHUNKS);

  const second = await runCli(args, env);
  expect(second.stderr).not.toMatch(/error/);
  expect(second.code).toBe(0);
  const dataset = JSON.parse(second.stdout);
  expect(dataset).toMatchObject({
    status: "ready",
    progress: { totalChunks: CHUNKS, done: CHUNKS, failed: 0, pending: 0, pairs: CHUNKS },
  });

  const database = await openPglite(join(dataDir, "pgdata"));
  try {
    const { rows } = await database.executeSql(
      "SELECT count(*)::int AS pairs, count(DISTINCT source_chunk_id)::int AS chunks FROM training_pairs",
    );
    expect(rows[0]).toEqual({ pairs: CHUNKS, chunks: CHUNKS });
  } finally {
    await database.close();
  }
}, 120_000);
