import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Command, Option } from "commander";
import { loadConfig } from "../../config.js";
import { counted } from "../../core/counted.js";
import { EXPORT_FORMATS } from "../../core/export/formats.js";
import { DEFAULT_MODEL } from "../../core/models.js";
import { averageQualityText } from "../../core/validation/quality-text.js";
import type { ValidationResult } from "../../core/validation/validate-dataset.js";
import type { ApiClient } from "../api-client.js";
import { CliError, withClient } from "../connect.js";
import { fileProblem } from "../file-errors.js";
import { parseFraction, parseWholeNumber, wholeNumberFlag } from "../flags.js";
import type { BodyOf, FlagNames } from "../in-flag-terms.js";
import { printJson, shellWord } from "../output.js";
import { type DatasetDto, resolveDataset } from "../resolve-dataset.js";
import { resolveProject } from "../resolve-project.js";

export interface ModelFlags {
  model?: string;
  maxTokens?: number;
}

const MODEL_FLAGS = { model: "--model", hardTokenLimit: "--max-tokens" } as const satisfies FlagNames;

const modelQuery = (flags: ModelFlags): BodyOf<typeof MODEL_FLAGS> => ({
  model: flags.model,
  hardTokenLimit: flags.maxTokens,
});
const number = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2 });

function printVerdict(dataset: string, project: string | undefined, result: ValidationResult) {
  const { stats } = result;
  const where = ["--dataset", dataset, ...(project === undefined ? [] : ["--project", project])]
    .map(shellWord)
    .join(" ");
  const lines = [
    `Dataset "${dataset}" is ${result.valid ? "valid" : "NOT valid"} for ${stats.model} (${stats.encoding}).`,
    `${number(stats.totalPairs)} pairs, ${number(stats.uniqueQuestions)} unique questions, ${averageQualityText(stats)}.`,
    `Tokens per pair: average ${number(stats.avgTokensPerPair)}, min ${stats.tokens.min}, p50 ${stats.tokens.p50}, p95 ${stats.tokens.p95}, max ${stats.tokens.max}.`,
    `Billable tokens per epoch ${number(stats.billableTokens)}; recommended epochs ${stats.recommendedEpochs}.`,
    ...(result.errors.length ? ["Errors:", ...result.errors.map((e) => `  - ${e}`)] : []),
    ...(result.warnings.length ? ["Warnings:", ...result.warnings.map((w) => `  - ${w}`)] : []),
    ...(result.issues.some((issue) => issue.severity === "error" && issue.pairIds.length > 0)
      ? [
          `\`fineflow pairs list ${where} --invalid\` lists the pairs with errors, and \`fineflow pairs show <id>\` ` +
            "shows one (an id as shown above will do); `export` leaves them out, unless given --all.",
        ]
      : []),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Streams one export to a file, in constant memory, and counts its lines. */
async function download(client: ApiClient, path: string, file: string, flags: FlagNames): Promise<number> {
  const response = await client.send("GET", path, undefined, flags);
  if (!response.body) throw new CliError("The server sent no file.");
  let lines = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
      done(null, chunk);
    },
  });
  await pipeline(
    Readable.fromWeb(response.body as import("node:stream/web").ReadableStream),
    count,
    // A large buffer: with the default 16 KB, waiting for the disk took about a tenth of an export's time.
    createWriteStream(file, { highWaterMark: 1024 * 1024 }),
  );
  return lines;
}

export interface ExportFlags extends ModelFlags {
  format: string;
  split?: number;
  seed?: number;
  systemPrompt: boolean;
  all?: boolean;
}

/** The export's query parameters, each with the flag of `export` that sets it. */
export const EXPORT_FLAGS = {
  format: "--format",
  split: "--split",
  seed: "--seed",
  model: "--model",
  hardTokenLimit: "--max-tokens",
} as const satisfies FlagNames;

export interface DownloadedExport {
  files: { file: string; lines: number }[];
  /** Accepted pairs in no file: those validation finds errors in (unless `all`), or the format cannot hold. */
  leftOut: number;
}

/**
 * Downloads a dataset's export, as one file or (with a split) a train and a validation file. `terms`: the
 * flags that set its parameters, for a refusal to name.
 */
export async function downloadExport(
  client: ApiClient,
  dataset: DatasetDto,
  flags: ExportFlags,
  fileFor: (part?: "train" | "validation") => string,
  terms: FlagNames = EXPORT_FLAGS,
): Promise<DownloadedExport> {
  const query = new URLSearchParams({
    format: flags.format,
    includeSystemPrompt: String(flags.systemPrompt),
  });
  if (flags.all) query.set("onlyValid", "false");
  if (flags.model) query.set("model", flags.model);
  if (flags.maxTokens) query.set("hardTokenLimit", String(flags.maxTokens));
  // A split of 0 holds nothing out: one file, as without it.
  const parts = !flags.split ? [undefined] : (["train", "validation"] as const);
  const files: { file: string; lines: number }[] = [];
  for (const part of parts) {
    const partQuery = new URLSearchParams(query);
    if (part) {
      partQuery.set("split", String(flags.split));
      partQuery.set("seed", String(flags.seed ?? 42));
      partQuery.set("part", part);
    }
    const file = fileFor(part);
    files.push({
      file,
      lines: await download(client, `/api/datasets/${dataset.id}/export?${partQuery}`, file, terms),
    });
  }
  const { total } = await client.request<{ total: number }>(
    "GET",
    `/api/datasets/${dataset.id}/pairs?status=accepted&limit=1`,
  );
  const written = files.reduce((sum, { lines }) => sum + lines, 0);
  return { files, leftOut: Math.max(0, total - written) };
}

/** The `validate` command that checks a dataset as an export with these flags did. */
export function validateCommand(dataset: string, flags: ModelFlags & { project?: string }): string {
  const words = ["fineflow", "validate", "--dataset", dataset];
  if (flags.project !== undefined) words.push("--project", flags.project);
  if (flags.model) words.push("--model", flags.model);
  if (flags.maxTokens) words.push("--max-tokens", String(flags.maxTokens));
  return words.map(shellWord).join(" ");
}

/**
 * Says what an export left out and which command names the pairs with errors; nothing when it left out
 * nothing. `all`: how the command was given `--all` (which writes pairs with errors too), if it has the
 * flag. The count alone cannot tell a pair with errors from one the format cannot hold (Anthropic's turn
 * markers in its text), which validation passes and `--all` leaves out still: the note says both.
 */
export function leftOutNote(
  leftOut: number,
  format: string,
  validate: string,
  all: "given" | "not given" | "no flag",
): string {
  if (leftOut === 0) return "";
  const pairs = counted(leftOut, "pair");
  if (all === "given") return `Left out ${pairs} that the ${format} format cannot hold.\n`;
  if (all === "no flag") return `Left out ${pairs} with errors (\`${validate}\` names them).\n`;
  return (
    `Left out ${pairs} with errors or that the ${format} format cannot hold ` +
    `(\`${validate}\` names those with errors, and \`--all\` writes them too).\n`
  );
}

/** `d1.jsonl` → `d1.train.jsonl`: the split's files sit beside the name given. */
function partFile(out: string, part: string): string {
  const dot = out.lastIndexOf(".");
  return dot > out.lastIndexOf("/") ? `${out.slice(0, dot)}.${part}${out.slice(dot)}` : `${out}.${part}`;
}

export function registerFiles(program: Command) {
  program
    .command("import <file>")
    .description(
      "Load a JSONL dataset made elsewhere (any export format) into a project, to validate or convert it",
    )
    .requiredOption("--project <name>", "the project to add it to")
    .requiredOption("--dataset <name>", "the new dataset's name")
    .addOption(
      new Option("--format <format>", "the file's format")
        .choices([...EXPORT_FORMATS, "auto"])
        .default("auto"),
    )
    .option("--json", "print the dataset as JSON")
    .action(
      async (file: string, flags: { project: string; dataset: string; format: string; json?: boolean }) => {
        const dataset = await withClient(loadConfig(process.env), "import", async (client) => {
          const project = await resolveProject(client, flags.project);
          const form = new FormData();
          const bytes = await readFile(file).catch((error: unknown) => {
            throw new CliError(fileProblem(error, file) ?? String(error));
          });
          form.append("file", new Blob([bytes]), basename(file));
          form.append("datasetName", flags.dataset);
          form.append("format", flags.format);
          return client.request<DatasetDto>("POST", `/api/projects/${project.id}/datasets/import`, form, {
            datasetName: "--dataset",
            format: "--format",
          });
        });
        if (flags.json) return printJson(dataset);
        process.stdout.write(
          `Imported "${dataset.name}" (${dataset.format}) into project "${flags.project}": validate it with ` +
            `\`${validateCommand(dataset.name, {})}\`.\n`,
        );
      },
    );

  program
    .command("validate")
    .description("Validate a dataset for a base model; exits 1 when it is not valid")
    .requiredOption("--dataset <name>", "the dataset (name or id)")
    .option("--project <name>", "the project, when several have a dataset of that name")
    .option("--model <model>", `the base model to fine-tune (default ${DEFAULT_MODEL})`)
    .option(
      "--max-tokens <n>",
      "the per-example token limit, for models FineFlow does not know",
      wholeNumberFlag({ min: 1 }),
    )
    .option("--json", "print the ValidationResult as JSON")
    .action(async (flags: ModelFlags & { dataset: string; project?: string; json?: boolean }) => {
      const { name, result } = await withClient(loadConfig(process.env), "validate", async (client) => {
        const dataset = await resolveDataset(client, flags.dataset, flags.project);
        const body = modelQuery(flags);
        return {
          name: dataset.name,
          result: await client.request<ValidationResult>(
            "POST",
            `/api/datasets/${dataset.id}/validate`,
            body,
            MODEL_FLAGS,
          ),
        };
      });
      if (flags.json) printJson(result);
      else printVerdict(name, flags.project, result);
      if (!result.valid) process.exitCode = 1;
    });

  program
    .command("export")
    .description(
      "Write a dataset as JSONL in a training format (with --split: a train and a validation file)",
    )
    .requiredOption("--dataset <name>", "the dataset (name or id)")
    .option("--project <name>", "the project, when several have a dataset of that name")
    .addOption(
      new Option("--format <format>", "the file format").choices(EXPORT_FORMATS).makeOptionMandatory(),
    )
    .requiredOption("--out <file>", "where to write it")
    .option(
      "--split <fraction>",
      "hold out this share of pairs as a validation file (e.g. 0.1)",
      parseFraction,
    )
    .option("--seed <n>", "the split's seed (default 42)", parseWholeNumber)
    .option("--no-system-prompt", "leave the dataset's system prompt out")
    .option("--all", "also export pairs that validation finds errors in")
    .option("--model <model>", `the base model whose rules decide validity (default ${DEFAULT_MODEL})`)
    .option(
      "--max-tokens <n>",
      "the per-example token limit, for models FineFlow does not know",
      wholeNumberFlag({ min: 1 }),
    )
    .option("--json", "print what was written as JSON")
    .action(
      async (flags: ExportFlags & { dataset: string; project?: string; out: string; json?: boolean }) => {
        const written = await withClient(loadConfig(process.env), "export", async (client) => {
          const dataset = await resolveDataset(client, flags.dataset, flags.project);
          return downloadExport(client, dataset, flags, (part) =>
            part ? partFile(flags.out, part) : flags.out,
          );
        });
        if (flags.json) return printJson(written);
        for (const { file, lines } of written.files)
          process.stdout.write(`Wrote ${counted(lines, "example")} to ${file}.\n`);
        process.stdout.write(
          leftOutNote(
            written.leftOut,
            flags.format,
            validateCommand(flags.dataset, flags),
            flags.all ? "given" : "not given",
          ),
        );
      },
    );
}
