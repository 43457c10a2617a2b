import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { recommendedEpochs } from "../src/core/models.js";
import { runCli } from "./helpers/run-cli.js";

let dir: string;
let env: Record<string, string>;

const PAIRS = 20;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fineflow-cli-bundle-"));
  env = { FINEFLOW_DATA_DIR: join(dir, "data") };
  const lines = Array.from({ length: PAIRS }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: "system", content: "Answer from the runbook." },
        { role: "user", content: `Which port does service ${i} listen on?` },
        { role: "assistant", content: `Service ${i} listens on port ${8000 + i}.` },
      ],
    }),
  );
  // A pair over the sequence length given below is left out of the bundle.
  lines.push(
    JSON.stringify({
      messages: [
        { role: "user", content: "Paste the whole runbook." },
        { role: "assistant", content: "step ".repeat(400) },
      ],
    }),
  );
  await writeFile(join(dir, "d1.jsonl"), `${lines.join("\n")}\n`);
  for (const args of [
    ["project", "create", "demo"],
    ["import", join(dir, "d1.jsonl"), "--project", "demo", "--dataset", "d1"],
  ]) {
    expect((await runCli(args, env)).code).toBe(0);
  }
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("fineflow bundle (the local provider)", { timeout: 120_000 }, () => {
  it("writes the dataset and Axolotl and LLaMA-Factory configs that point at it", async () => {
    const out = join(dir, "bundle");
    const args = ["bundle", "--dataset", "d1", "--base-model", "Qwen/Qwen2.5-7B-Instruct", "--out", out];
    const run = await runCli([...args, "--split", "0.2", "--sequence-len", "256", "--json"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const written = JSON.parse(run.stdout);
    expect(written.train + written.validation).toBe(PAIRS);
    expect(written.leftOut).toBe(1);
    expect(written.validation).toBeGreaterThan(0);

    const read = async (path: string) => readFile(join(out, path), "utf8");
    const lines = (file: string) => read(file).then((text) => text.split("\n").filter(Boolean));
    const train = (await lines("data/train.jsonl")).map((line) => JSON.parse(line));
    expect(train).toHaveLength(written.train);
    expect(train[0].messages.map((m: { role: string }) => m.role)).toEqual(["system", "user", "assistant"]);
    expect(await lines("data/validation.jsonl")).toHaveLength(written.validation);

    const registry = JSON.parse(await read("data/dataset_info.json"));
    for (const entry of Object.values(registry) as { file_name: string }[]) {
      expect(existsSync(join(out, "data", entry.file_name))).toBe(true);
    }
    const factory = parse(await read("llamafactory.yaml"));
    expect(factory).toMatchObject({ template: "qwen", cutoff_len: 256, dataset: "fineflow_train" });
    expect(Object.keys(registry)).toContain(factory.eval_dataset);
    expect(factory.num_train_epochs).toBe(recommendedEpochs(PAIRS));
    const axolotl = parse(await read("axolotl.yaml"));
    for (const dataset of [...axolotl.datasets, ...axolotl.test_datasets]) {
      expect(existsSync(join(out, dataset.path))).toBe(true);
    }
    expect(await read("README.md")).toContain("axolotl train axolotl.yaml");
  });

  it("says what export leaves out, and validation how to see those pairs, by the ids it shows", async () => {
    const model = ["--model", "Qwen/Qwen2.5-7B-Instruct", "--max-tokens", "256"];
    const verdict = await runCli(["validate", "--dataset", "d1", ...model], env);
    expect(verdict.code).toBe(1);
    expect(verdict.stdout).toContain(
      "`fineflow pairs list --dataset d1 --invalid` lists the pairs with errors, and `fineflow pairs show <id>` " +
        "shows one (an id as shown above will do); `export` leaves them out, unless given --all.\n",
    );
    const [, shortId] = /over 256 tokens.*\(id ([0-9a-f]{8}…)\)/.exec(verdict.stdout) ?? [];
    const shown = await runCli(["pairs", "show", shortId as string], env);
    expect(shown.stderr).toBe("");
    expect(shown.stdout).toMatch(/^\[user\]\nPaste the whole runbook\.\n/);

    const out = join(dir, "valid.jsonl");
    const exported = await runCli(
      ["export", "--dataset", "d1", "--format", "openai", "--out", out, ...model],
      env,
    );
    expect(exported.stdout).toBe(
      `Wrote ${PAIRS} examples to ${out}.\n` +
        "Left out 1 pair with errors or that the openai format cannot hold (`fineflow validate --dataset d1 " +
        "--model Qwen/Qwen2.5-7B-Instruct --max-tokens 256` names those with errors, and `--all` writes them too).\n",
    );
  });

  it("says in one line which file it cannot read or write, not with a stack", async () => {
    const missing = join(dir, "other.jsonl");
    const cases: [string[], string][] = [
      [["import", missing, "--project", "demo", "--dataset", "d2"], `${missing}: no such file or folder`],
      [["import", dir, "--project", "demo", "--dataset", "d2"], `${dir}: is a folder, not a file`],
      [
        ["export", "--dataset", "d1", "--format", "openai", "--out", join(dir, "none", "d1.jsonl")],
        `${join(dir, "none", "d1.jsonl")}: no such file or folder`,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, env);
      expect(run.code, args[0]).toBe(1);
      expect(run.stderr).toBe(`error: ${message}\n`);
    }
  });

  it("asks for the chat template of a model family it does not know, before writing anything", async () => {
    const out = join(dir, "falcon");
    const run = await runCli(
      ["bundle", "--dataset", "d1", "--base-model", "tiiuae/falcon-7b-instruct", "--out", out],
      env,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /template: FineFlow does not know the chat template of tiiuae\/falcon-7b-instruct/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
