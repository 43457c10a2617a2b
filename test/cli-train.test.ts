import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeFineTuningServer,
  startFakeOpenAiFineTuningServer,
} from "./fakes/openai-fine-tuning-server.js";
import { runCli } from "./helpers/run-cli.js";

const KEY = "sk-test-fineflow-cli";
const MINI = "gpt-4o-mini-2024-07-18";

let dir: string;
let env: Record<string, string>;
let openai: FakeFineTuningServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fineflow-cli-train-"));
  openai = await startFakeOpenAiFineTuningServer({ apiKeys: [KEY] });
  env = {
    FINEFLOW_DATA_DIR: join(dir, "data"),
    OPENAI_BASE_URL: openai.baseURL,
    FINEFLOW_TRAINING_POLL_SECONDS: "0.2",
  };
  const lines = Array.from({ length: 12 }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: "user", content: `Which port does service ${i} listen on?` },
        { role: "assistant", content: `Service ${i} listens on port ${8000 + i}.` },
      ],
    }),
  );
  await writeFile(join(dir, "d1.jsonl"), `${lines.join("\n")}\n`);
});
afterAll(async () => {
  await openai.close();
  await rm(dir, { recursive: true, force: true });
});

describe("fineflow estimate, train and jobs", { timeout: 180_000 }, () => {
  it("previews the cost, asks before going over a warn budget, follows the job live and lists it", async () => {
    const ok = async (args: string[], input?: string) => {
      const result = await runCli(args, env, input);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      return result.stdout;
    };
    const created = await ok(["project", "create", "demo", "--budget", "0.0001", "--enforce", "warn"]);
    expect(created).toContain(", budget $0.0001/month (warn);");
    await ok(["import", join(dir, "d1.jsonl"), "--project", "demo", "--dataset", "d1"]);
    await ok(["keys", "set", "openai"], `${KEY}\n`);

    const preview = await ok(["estimate", "--dataset", "d1", "--provider", "openai", "--model", MINI]);
    expect(preview).toContain("12 examples");
    expect(preview).toContain("8 epochs (auto)");
    expect(preview).toMatch(/Estimated cost: \$0\.\d+ at \$3 per 1M tokens \(price table\)/);
    expect(preview).toContain("Budget: this job");
    expect(preview).toContain("Note: OpenAI stops accepting new fine-tuning jobs on 2027-01-06;");

    const refused = await runCli(["train", "--dataset", "d1", "--provider", "openai", "--model", MINI], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("over the budget of $0.0001");
    expect(refused.stderr).toContain("Run again with --yes");

    // The fake provider's clock moves while the CLI follows the job: 10 simulated seconds a second, so its
    // 96 training steps span several of the worker's polls.
    const ticking = setInterval(() => openai.advance(1), 100);
    const followed = await runCli(
      [
        "train",
        "--dataset",
        "d1",
        "--provider",
        "openai",
        "--model",
        MINI,
        "--yes",
        "--follow",
        "--suffix",
        "cli",
      ],
      env,
    ).finally(() => clearInterval(ticking));
    expect(followed.stderr).toBe("");
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain("pending 0% — Waiting to start");
    expect(followed.stdout).toMatch(/training \(running\) \d+% — Step \d+\/\d+ — train loss/);
    expect(followed.stdout).toMatch(/ {2}train loss \d+\.\d{3} [▁▂▃▄▅▆▇█]+ \d+\.\d{3}/);
    expect(followed.stdout).toMatch(/fine-tuned model: ft:gpt-4o-mini-2024-07-18:[^:]+:cli:/);
    expect(followed.stdout).not.toContain(KEY);

    const jobs = JSON.parse(await ok(["jobs", "list", "--json"]));
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ status: "completed", provider: "openai", baseModel: MINI });

    // What it cost, said as the cost: only a job that has none yet shows its estimate, called so.
    const table = await ok(["jobs", "list"]);
    expect(jobs[0].actualCostUsd).toBeGreaterThan(0);
    expect(table).toMatch(/ {2}\$0\.\d+\n/);
    expect(table).not.toContain("(estimate)");

    const cancel = await runCli(["jobs", "cancel", jobs[0].id], env);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain(
      "is completed; only pending, uploading, validating, queued or training jobs",
    );
  });

  it("exits 1 when it stops following a job whose tracking paused, which may still run", async () => {
    // The provider's clock stands still: the job never ends, and its tracking pauses after ~0.4 s.
    const paused = await runCli(
      ["train", "--dataset", "d1", "--provider", "openai", "--model", MINI, "--yes", "--follow"],
      { ...env, FINEFLOW_TRAINING_MAX_TRACKING_HOURS: "0.0001" },
    );
    expect(paused.stdout).toMatch(/tracking paused: resume with `fineflow jobs resume [0-9a-f-]+`/);
    expect(paused.stderr).toBe(
      "error: Tracking paused before the job ended; it may still be running at the provider.\n",
    );
    expect(paused.code).toBe(1);
    const listed = await runCli(["jobs", "list"], env);
    expect(listed.stdout).toMatch(/ \(estimate\)/);
  });

  it("takes --budget none to remove a project's budget", async () => {
    const updated = await runCli(["project", "update", "demo", "--budget", "none", "--json"], env);
    expect(updated.stderr).toBe("");
    expect(JSON.parse(updated.stdout)).toMatchObject({ name: "demo", monthlyBudgetUsd: null });
  });
});
