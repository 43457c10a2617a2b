import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import PgBoss from "pg-boss";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { openRuntime } from "../src/context.js";
import { DocumentsRepository } from "../src/db/repositories/documents-repository.js";
import { silentLogger } from "../src/logger.js";
import { runCli } from "./helpers/run-cli.js";

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-interrupted-"));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

// Without the retry, the second `ingest` waits for the queue's 15-minute expiry: the test times out.
it("finishes, when ingest runs again, a document whose processing was cut off by a killed process", {
  timeout: 120_000,
}, async () => {
  const env = { FINEFLOW_DATA_DIR: dataDir };
  const file = join(dataDir, "guide.md");
  const text = "# Guide\n\nRun the installer, then sign in with your account.\n";
  await writeFile(file, text);
  expect((await runCli(["project", "create", "demo"], env)).code).toBe(0);

  // The earlier `fineflow ingest`, as the process left it when it was killed: the document stored and
  // queued, its job taken by a worker, and the document being processed.
  const runtime = await openRuntime(loadConfig(env), "test", silentLogger);
  try {
    const { database, services } = runtime;
    const userId = (await database.executeSql("SELECT id FROM users")).rows[0]?.id as string;
    const projectId = (await database.executeSql("SELECT id FROM projects WHERE name = 'demo'")).rows[0]
      ?.id as string;
    const [stored] = await services.documents.ingest({ userId }, projectId, [
      { name: "guide.md", bytes: new TextEncoder().encode(text) },
    ]);
    const worker = new PgBoss({ db: { executeSql: (sql, values) => database.executeSql(sql, values) } });
    await worker.start();
    expect(await worker.fetch(services.jobs.processDocument.name)).toHaveLength(1);
    await worker.stop({ graceful: false, close: false, wait: true });
    const claimed = await new DocumentsRepository(database.db).claim({ userId }, stored?.documentId ?? "");
    expect(claimed?.status).toBe("processing");
  } finally {
    await runtime.close();
  }

  const again = await runCli(["ingest", file, "--project", "demo", "--json"], env);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout).documents).toEqual([
    expect.objectContaining({ outcome: "unchanged", status: "ready", chunkCount: 1, error: null }),
  ]);
});
