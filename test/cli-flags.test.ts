import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/run-cli.js";

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-cli-flags-"));
  env = { FINEFLOW_DATA_DIR: dataDir };
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

// Each CLI call starts a process that opens the database: generous time, since CI machines are shared.
describe("fineflow's refusals name the flags typed", { timeout: 120_000 }, () => {
  it("project create --json: the overlap and the chunk size it is checked against", async () => {
    const refused = await runCli(
      ["project", "create", "demo", "--chunk-tokens", "64", "--chunk-overlap", "40", "--json"],
      env,
    );
    expect(refused.stderr).toBe("error: --chunk-overlap: must be less than half of --chunk-tokens (64)\n");
    expect(refused.stdout).toBe("");
    expect(refused.code).toBe(1);
  });

  it("llm set: the endpoint's URL", async () => {
    const refused = await runCli(["llm", "set", "--base-url", "ftp://models.example", "--model", "m"], env);
    expect(refused.stderr).toBe("error: --base-url: must be an http:// or https:// URL\n");
    expect(refused.code).toBe(1);
  });
});
