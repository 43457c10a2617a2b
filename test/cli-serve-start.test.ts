import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startServer } from "./helpers/run-cli.js";

let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fineflow-serve-start-"));
  env = { FINEFLOW_DATA_DIR: join(dir, "data") };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The command holding the embedded database's lock, if any. */
const lockHolder = () => {
  const lock = join(env.FINEFLOW_DATA_DIR as string, "fineflow.lock");
  return existsSync(lock)
    ? (JSON.parse(readFileSync(lock, "utf8")) as { command: string }).command
    : undefined;
};

// Each step starts processes that open the database: generous time, since CI machines are shared.
describe("serve and CLI commands started at the same time", { timeout: 180_000 }, () => {
  it("a command run as serve starts goes through it once it listens, whichever takes the database first", async () => {
    expect((await runCli(["project", "create", "shared"], env)).stderr).toBe("");
    const starting = startServer(env);
    // A moment in: here the command most often looks for the server before it has taken the database, and
    // tries to take it after (any other order passes too, as it should).
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Before, a command that looked for the server before it had taken the database, then found it taken,
    // failed: "in use by `fineflow serve`".
    const listed = await runCli(["project", "list", "--json"], env);
    expect(listed.stderr).toBe("");
    expect(JSON.parse(listed.stdout)).toMatchObject([{ name: "shared" }]);
    const server = await starting;
    server.child.kill("SIGTERM");
    await new Promise((resolve) => server.child.once("exit", resolve));
  });

  it("serve started while a command holds the database waits for it, then starts", async () => {
    const docs = join(dir, "docs");
    await mkdir(docs);
    for (let i = 0; i < 40; i++) {
      await writeFile(
        join(docs, `d${i}.md`),
        `# Part ${i}\n\n${"A sentence about the rota. ".repeat(200)}\n`,
      );
    }
    let ingestEnded = false;
    const ingest = runCli(["ingest", docs, "--project", "shared"], env).finally(() => {
      ingestEnded = true;
    });
    while (lockHolder() !== "ingest") {
      if (ingestEnded)
        throw new Error(`ingest ended before it was seen holding the database: ${(await ingest).stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const server = await startServer(env);
    // Before, serve refused to start: "in use by `fineflow ingest`".
    expect(server.output()).toMatch(
      /^Waiting for `fineflow ingest` \(pid \d+\) to finish with the embedded database…\n/,
    );
    expect((await ingest).code).toBe(0);
    server.child.kill("SIGTERM");
    await new Promise((resolve) => server.child.once("exit", resolve));
  });
});
