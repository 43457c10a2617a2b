import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, runCli } from "./helpers/run-cli.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fineflow-data-dir-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the embedded database's folder, with FINEFLOW_DATA_DIR unset", { timeout: 60_000 }, () => {
  it("starts one in the folder the first command runs in, saying so, and finds it from a subfolder", async () => {
    const created = await runCli(["project", "create", "demo"], {}, undefined, dir);
    expect(created.code).toBe(0);
    expect(created.stderr).toBe(
      `Started a new FineFlow database in ${join(dir, ".fineflow")} (none in this folder or above it; ` +
        "FINEFLOW_DATA_DIR sets another).\n",
    );
    expect(existsSync(join(dir, ".fineflow"))).toBe(true);

    // README's `cd d1-bundle`: the same database, not a new one there.
    const sub = join(dir, "d1-bundle", "data");
    await mkdir(sub, { recursive: true });
    const listed = await runCli(["project", "list", "--json"], {}, undefined, sub);
    expect(listed.stderr).toBe("");
    expect(JSON.parse(listed.stdout).map((p: { name: string }) => p.name)).toEqual(["demo"]);
    expect(existsSync(join(sub, ".fineflow"))).toBe(false);
    expect(existsSync(join(dir, "d1-bundle", ".fineflow"))).toBe(false);
  });
});

describe("output to a reader that stops early", { timeout: 60_000 }, () => {
  it("ends quietly with success, not with an EPIPE's stack (`fineflow … | head`)", async () => {
    const env = { FINEFLOW_DATA_DIR: join(dir, "pipe") };
    const child = spawn(process.execPath, [CLI, "project", "list"], { env: cliEnv(env) });
    // The reader is gone before anything is written: every write meets a closed pipe.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (data) => {
      stderr += data;
    });
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("ends quietly too when its messages on stderr have no reader (`fineflow … |& head`)", async () => {
    // A folder with no database in it or above: the command says on stderr that it starts one.
    const folder = await mkdtemp(join(tmpdir(), "fineflow-quiet-"));
    try {
      const child = spawn(process.execPath, [CLI, "project", "list"], { env: cliEnv({}), cwd: folder });
      child.stdout.destroy();
      child.stderr.destroy();
      const code = await new Promise((resolve) => child.on("close", resolve));
      expect(existsSync(join(folder, ".fineflow"))).toBe(true);
      expect(code).toBe(0);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
