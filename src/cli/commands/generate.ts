import { type Command, Option } from "commander";
import { loadConfig } from "../../config.js";
import { GENERATORS } from "../../core/inputs.js";
import { RANGES } from "../../core/ranges.js";
import { DATASET_FORMATS, GENERATION_MODES } from "../../core/statuses.js";
import type { toDatasetDto } from "../../server/routes/dataset-routes.js";
import type { ApiClient } from "../api-client.js";
import { CliError, withClient } from "../connect.js";
import { parseFraction, parseList, wholeNumberFlag } from "../flags.js";
import type { BodyOf, FlagNames } from "../in-flag-terms.js";
import { printJson, printTable } from "../output.js";
import { createProgress, type Progress } from "../progress.js";
import { resolveDataset } from "../resolve-dataset.js";
import { documentIds } from "../resolve-document.js";
import { resolveProject } from "../resolve-project.js";

type DatasetDto = ReturnType<typeof toDatasetDto>;

interface GenerateFlags {
  project: string;
  dataset: string;
  mode: string;
  format: string;
  systemPrompt?: string;
  documents?: string[];
  minQuality?: number;
  pairsPerChunk?: number;
  generator?: string;
  includeFlagged?: boolean;
  json?: boolean;
}

const POLL_MS = 500;

const GENERATE_FLAGS = {
  datasetName: "--dataset",
  mode: "--mode",
  format: "--format",
  systemPrompt: "--system-prompt",
  documentIds: "--documents",
  minQuality: "--min-quality",
  pairsPerChunk: "--pairs-per-chunk",
  generator: "--generator",
  includeFlagged: "--include-flagged",
} as const satisfies FlagNames;

const generateBody = (flags: GenerateFlags, documentIds?: string[]): BodyOf<typeof GENERATE_FLAGS> => ({
  datasetName: flags.dataset,
  mode: flags.mode,
  format: flags.format,
  systemPrompt: flags.systemPrompt,
  documentIds,
  minQuality: flags.minQuality,
  pairsPerChunk: flags.pairsPerChunk,
  generator: flags.generator,
  includeFlagged: flags.includeFlagged,
});

async function follow(client: ApiClient, id: string, progress: Progress): Promise<DatasetDto> {
  for (;;) {
    const dataset = await client.request<DatasetDto>("GET", `/api/datasets/${id}`);
    const p = dataset.progress;
    if (p) {
      const finished = p.done + p.failed + p.skipped;
      progress.update(finished, p.totalChunks, `${finished}/${p.totalChunks} chunks, ${p.pairs} pairs`);
    }
    if (dataset.status !== "generating") return dataset;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function registerGenerate(program: Command) {
  program
    .command("generate")
    .description(
      "Generate a dataset of training pairs from a project's chunks (again with the same name: resume)",
    )
    .requiredOption("--project <name>", "the project whose chunks to use")
    .requiredOption("--dataset <name>", "the dataset's name")
    .addOption(new Option("--mode <mode>", "the kind of pairs").choices(GENERATION_MODES).default("auto"))
    .addOption(
      new Option("--format <format>", "the export format").choices(DATASET_FORMATS).default("openai"),
    )
    .option("--system-prompt <text>", "the dataset's system prompt, applied at export")
    .option(
      "--documents <names>",
      "only these documents (comma-separated names, as `documents list` shows them, or ids)",
      parseList,
    )
    .option("--min-quality <score>", "only chunks scoring at least this (0–1)", parseFraction)
    .option(
      "--pairs-per-chunk <n>",
      "pairs to aim for per chunk (1–10, default 3)",
      wholeNumberFlag(RANGES.pairsPerChunk),
    )
    .addOption(
      new Option(
        "--generator <generator>",
        "llm (FINEFLOW_LLM_*), or extractive: offline, from the text itself",
      ).choices(GENERATORS),
    )
    .option("--include-flagged", "also use chunks flagged for prompt injection")
    .option("--json", "print the dataset as JSON (progress goes to stderr)")
    .action(async (flags: GenerateFlags) => {
      const progress = createProgress({ json: flags.json });
      const dataset = await withClient(
        loadConfig(process.env),
        "generate",
        async (client) => {
          const project = await resolveProject(client, flags.project);
          const documents = flags.documents && (await documentIds(client, project, flags.documents));
          const started = await client.request<DatasetDto>(
            "POST",
            `/api/projects/${project.id}/datasets`,
            generateBody(flags, documents),
            GENERATE_FLAGS,
          );
          return follow(client, started.id, progress);
        },
        { worker: true },
      );
      progress.finish();
      if (flags.json) return printJson(dataset);
      const p = dataset.progress;
      const generator = String(dataset.generationOptions.generator ?? "");
      process.stdout.write(
        `Dataset "${dataset.name}" is ${dataset.status}: ${p?.pairs ?? 0} pairs made by the ${generator} generator` +
          ` from ${p?.done ?? 0} chunks (${p?.failed ?? 0} failed, ${p?.skipped ?? 0} skipped, ` +
          `${p?.rejectedPairs ?? 0} pairs held back by the safety filter).\n`,
      );
      if (dataset.status === "failed") throw new CliError(dataset.error ?? "Generation failed.");
    });

  const datasets = program.command("datasets").description("List and cancel datasets");
  datasets
    .command("list")
    .description("A project's datasets and their status")
    .requiredOption("--project <name>", "the project")
    .option("--json", "print the datasets as JSON")
    .action(async (flags: { project: string; json?: boolean }) => {
      const rows = await withClient(loadConfig(process.env), "datasets list", async (client) => {
        const project = await resolveProject(client, flags.project);
        return (
          await client.request<{ datasets: DatasetDto[] }>("GET", `/api/projects/${project.id}/datasets`)
        ).datasets;
      });
      if (flags.json) return printJson(rows);
      printTable(
        rows.map((d) => ({ name: d.name, id: d.id, status: d.status, mode: d.mode, format: d.format })),
        "No datasets yet: make one with `fineflow generate --project <name> --dataset <name>`.",
      );
    });
  datasets
    .command("cancel <dataset>")
    .description("Stop generating a dataset; the pairs made so far are kept")
    .option("--project <name>", "the project, when several have a dataset of that name")
    .action(async (nameOrId: string, flags: { project?: string }) => {
      const dataset = await withClient(loadConfig(process.env), "datasets cancel", async (client) => {
        const dataset = await resolveDataset(client, nameOrId, flags.project);
        return client.request<DatasetDto>("POST", `/api/datasets/${dataset.id}/cancel`);
      });
      process.stdout.write(`Cancelled dataset "${dataset.name}"; the pairs made so far are kept.\n`);
    });
}
