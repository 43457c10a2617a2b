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

  it("project create and update: the argument, a target that clears no overlap, and nothing to change", async () => {
    expect((await runCli(["project", "create", " "], env)).stderr).toBe("error: <name>: must not be empty\n");
    expect((await runCli(["project", "create", "wide", "--chunk-overlap", "100"], env)).code).toBe(0);
    // The overlap is the project's, not typed: the target is what is refused, saying what it must clear.
    const target = await runCli(["project", "update", "wide", "--chunk-tokens", "150"], env);
    expect(target.stderr).toBe(
      "error: --chunk-tokens: must be more than twice --chunk-overlap (100); lower --chunk-overlap too\n",
    );
    const nothing = await runCli(["project", "update", "wide", "--json"], env);
    expect(nothing.stderr).toBe(
      "error: Nothing to change: give one or more of --rename, --description, --budget, --enforce, " +
        "--chunk-tokens, --chunk-overlap, --duplicate-threshold.\n",
    );
    expect(nothing.code).toBe(1);
    const stored = JSON.parse((await runCli(["project", "list", "--json"], env)).stdout);
    expect(stored).toEqual([
      expect.objectContaining({ name: "wide", chunkTargetTokens: 512, chunkOverlapTokens: 100 }),
    ]);
  });

  it("generate --documents: a list of nothing is refused before anything is asked of the server", async () => {
    const refused = await runCli(
      ["generate", "--project", "wide", "--dataset", "d", "--documents", " , "],
      env,
    );
    expect(refused.stderr).toContain(
      "error: option '--documents <names>' argument ' , ' is invalid. must name at least one",
    );
    expect(refused.code).toBe(1);
  });

  it("llm set: the endpoint's URL", async () => {
    const refused = await runCli(["llm", "set", "--base-url", "ftp://models.example", "--model", "m"], env);
    expect(refused.stderr).toBe("error: --base-url: must be an http:// or https:// URL\n");
    expect(refused.code).toBe(1);
  });
});
