import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { openRuntime } from "../src/context.js";
import { keyIdOf } from "../src/core/secret-box.js";
import { silentLogger } from "../src/logger.js";
import { secretFilePath, stageRotationSecret } from "../src/secret-file.js";
import { runCli } from "./helpers/run-cli.js";
import { tablesContaining } from "./helpers/scan-database.js";

const OPENAI_KEY = "sk-proj-CliOpenAIKey0000000000000000000000000000wxyz";
const TOGETHER_KEY = "tgp_v1_CliTogetherKey00000000000000000000000abcd";
const NEW_SECRET = "a-new-embedded-secret-for-the-cli-test-0123456789";

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-cli-keys-"));
  env = { FINEFLOW_DATA_DIR: dataDir };
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** Opens the embedded database in this process (no CLI is running) to look inside. */
async function withEmbedded<T>(work: (runtime: Awaited<ReturnType<typeof openRuntime>>) => Promise<T>) {
  const runtime = await openRuntime(loadConfig(env), "test", silentLogger);
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

describe("fineflow keys on the embedded database", { timeout: 120_000 }, () => {
  it("sets a key read from standard input, shows only its last four characters, never taking it from argv", async () => {
    const set = await runCli(["keys", "set", "openai"], env, `${OPENAI_KEY}\n`);
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).toBe("Saved your openai key (…wxyz), encrypted.\n");
    expect(statSync(secretFilePath(dataDir)).mode & 0o777).toBe(0o600);

    for (const extra of [TOGETHER_KEY, `--api-key=${TOGETHER_KEY}`]) {
      const refused = await runCli(["keys", "set", "together", extra], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^error: `keys set` takes only the provider\. Never put an API key on the command line/,
      );
      expect(refused.stderr).toContain("pipe it in");
      expect(refused.stderr).not.toContain(TOGETHER_KEY);
    }

    const misplaced = await runCli(["keys", "set", TOGETHER_KEY], env, "whatever\n");
    expect(misplaced.code).toBe(1);
    expect(misplaced.stderr).toMatch(/^error: provider: must be one of openai, together, llm\./);
    expect(misplaced.stderr).not.toContain(TOGETHER_KEY);

    const status = await runCli(["keys", "status", "--json"], env);
    expect(JSON.parse(status.stdout)).toEqual([
      { provider: "openai", set: true, last4: "wxyz", updatedAt: expect.any(String) },
      { provider: "together", set: false },
      { provider: "llm", set: false },
    ]);
    for (const output of [set, misplaced, status]) {
      expect(output.stdout + output.stderr).not.toContain(OPENAI_KEY);
    }
  });

  it("rotates the embedded secret, resuming a rotation that was interrupted, and deletes a key", async () => {
    // Two keys, and a rotation that stopped after re-encrypting one of them.
    await withEmbedded(async ({ services }) => {
      const owner = await services.auth.ensureLocalOwner();
      await services.keys.set({ userId: owner.id }, "together", TOGETHER_KEY);
      await services.keys.set({ userId: owner.id }, "llm", "llm-key-for-the-endpoint-test");
      stageRotationSecret(dataDir, NEW_SECRET);
      await services.keys
        .rotate(NEW_SECRET, {
          batchSize: 1,
          onProgress: () => {
            throw new Error("crash");
          },
        })
        .catch(() => {});
    });
    const other = await runCli(["keys", "rotate"], env, "a-different-secret-than-the-staged-one-0123\n");
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/interrupted rotation to another secret is pending in .*secret\.key\.new/);

    const resumed = await runCli(["keys", "rotate"], env, "");
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(
      `Re-encrypted 2 API key(s) under the new secret (key id ${keyIdOf(NEW_SECRET)}; 1 already were, from an earlier run).`,
    );
    expect(resumed.stdout).toContain(`The new secret is in ${secretFilePath(dataDir)}.`);
    expect(resumed.stdout).not.toContain(NEW_SECRET);
    expect(readFileSync(secretFilePath(dataDir), "utf8").trim()).toBe(NEW_SECRET);
    expect(statSync(secretFilePath(dataDir)).mode & 0o777).toBe(0o600);

    await withEmbedded(async ({ services, database }) => {
      const owner = await services.auth.ensureLocalOwner();
      expect(await services.keys.reveal({ userId: owner.id }, "openai")).toBe(OPENAI_KEY);
      expect(await services.keys.reveal({ userId: owner.id }, "together")).toBe(TOGETHER_KEY);
      for (const key of [OPENAI_KEY, TOGETHER_KEY]) expect(await tablesContaining(database, key)).toEqual([]);
    });

    const deleted = await runCli(["keys", "delete", "openai"], env);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe("Deleted your openai key.\n");
  });
});

describe("fineflow llm on the embedded database", { timeout: 120_000 }, () => {
  it("sets, shows and clears the user's own generation endpoint", async () => {
    const bad = await runCli(["llm", "set", "--base-url", "ftp://example.com", "--model", "m"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("error: --base-url: must be an http:// or https:// URL\n");

    const set = await runCli(
      ["llm", "set", "--base-url", "http://127.0.0.1:11434/v1", "--model", "llama3.1"],
      env,
    );
    expect(set.stderr).toBe("");
    expect(set.stdout).toBe(
      "Generation uses your endpoint: llama3.1 at http://127.0.0.1:11434/v1, with your `llm` key.\n",
    );

    const shown = await runCli(["llm", "show", "--json"], env);
    expect(JSON.parse(shown.stdout)).toEqual({
      source: "user",
      baseUrl: "http://127.0.0.1:11434/v1",
      model: "llama3.1",
      keySet: true,
      updatedAt: expect.any(String),
    });

    const cleared = await runCli(["llm", "clear"], env);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toMatch(
      /^Cleared your endpoint\. No LLM endpoint: `generate` uses the offline extractive/,
    );
  });
});

describe("fineflow keys in server mode", { timeout: 120_000 }, () => {
  it("refuses to start without API_KEY_ENCRYPTION_SECRET, before touching the database", async () => {
    // Nothing listens on port 1: the refusal must come before any connection is tried.
    const refused = await runCli(["project", "list"], {
      DATABASE_URL: "postgres://fineflow@127.0.0.1:1/none",
      API_KEY_ENCRYPTION_SECRET: "",
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: API_KEY_ENCRYPTION_SECRET must be set with DATABASE_URL/);
  });
});
