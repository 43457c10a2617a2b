import { createInterface } from "node:readline/promises";
import { type Command, Option } from "commander";
import { loadConfig } from "../../config.js";
import { formatUsd } from "../../core/money.js";
import { RANGES } from "../../core/ranges.js";
import { billedTokensText } from "../../core/training/budget.js";
import { isTerminal } from "../../core/training/lifecycle.js";
import type { toJobDto } from "../../server/routes/training-routes.js";
import type { CostPreview } from "../../services/training-service.js";
import { type ApiClient, ApiError } from "../api-client.js";
import { CliError, withClient } from "../connect.js";
import { numberFlag, parsePositiveNumber, wholeNumberFlag } from "../flags.js";
import type { BodyOf, FlagNames } from "../in-flag-terms.js";
import { lossCurve } from "../loss-curve.js";
import { printJson, printTable } from "../output.js";
import { resolveDataset } from "../resolve-dataset.js";

type JobDto = ReturnType<typeof toJobDto>;
interface Metrics {
  step: number;
  trainLoss?: number;
  validLoss?: number;
}

const PROVIDER_CHOICES = ["openai", "together"];

interface EstimateFlags {
  dataset: string;
  project?: string;
  provider: string;
  model: string;
  epochs?: number;
  validationSplit?: number;
  json?: boolean;
}

interface TrainFlags extends EstimateFlags {
  batchSize?: number;
  lrMultiplier?: number;
  learningRate?: number;
  suffix?: string;
  yes?: boolean;
  follow?: boolean;
}

function printPreview(p: CostPreview) {
  const lines = [
    `Training ${p.model} on ${p.provider}: ${p.trainingExamples} examples${p.validationExamples ? ` (+${p.validationExamples} held out for validation)` : ""}; billed: ${billedTokensText(p)}.`,
    `Estimated cost: ${formatUsd(p.estimatedCostUsd)}${p.pricePerMillionUsd === null ? "" : ` at $${p.pricePerMillionUsd} per 1M tokens`} (${p.priceSource}).`,
    `Spent this month: ${formatUsd(p.spentThisMonthUsd)}; budget: ${p.monthlyBudgetUsd === null ? "none" : `${formatUsd(p.monthlyBudgetUsd)} (${p.budgetEnforcement})`}; projected total: ${formatUsd(p.projectedTotalUsd)}.`,
    ...(p.budget.decision === "allowed" ? [] : [`Budget: ${p.budget.reason}.`]),
    ...p.warnings.map((warning) => `Note: ${warning}`),
    ...(p.validation.valid
      ? []
      : ["The dataset does not pass validation:", ...p.validation.errors.map((e) => `  - ${e}`)]),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

function addEstimateOptions(command: Command) {
  return command
    .requiredOption("--dataset <name>", "the dataset (name or id)")
    .option("--project <name>", "the dataset's project, when two projects use its name")
    .addOption(
      new Option("--provider <provider>", "where to train").choices(PROVIDER_CHOICES).makeOptionMandatory(),
    )
    .requiredOption("--model <model>", "the base model, e.g. gpt-4.1-mini-2025-04-14")
    .option("--epochs <n>", "epochs (default: as OpenAI's auto picks them)", wholeNumberFlag(RANGES.epochs))
    .option(
      "--validation-split <fraction>",
      "hold out this share of pairs as the validation file",
      numberFlag(RANGES.validationSplit),
    );
}

const ESTIMATE_FLAGS = {
  datasetId: "--dataset",
  provider: "--provider",
  model: "--model",
  epochs: "--epochs",
  validationSplit: "--validation-split",
} as const satisfies FlagNames;

const estimateBody = (datasetId: string, flags: EstimateFlags): BodyOf<typeof ESTIMATE_FLAGS> => ({
  datasetId,
  provider: flags.provider,
  model: flags.model,
  epochs: flags.epochs,
  validationSplit: flags.validationSplit,
});

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

const TRAIN_FLAGS = {
  ...ESTIMATE_FLAGS,
  batchSize: "--batch-size",
  learningRateMultiplier: "--lr-multiplier",
  learningRate: "--learning-rate",
  suffix: "--suffix",
  confirmOverBudget: "--yes",
} as const satisfies FlagNames;

/** Starts the job; a `warn` budget asks first (or takes `--yes`), a `block` budget refuses. */
async function startJob(client: ApiClient, flags: TrainFlags): Promise<JobDto> {
  const dataset = await resolveDataset(client, flags.dataset, flags.project);
  const body: BodyOf<typeof TRAIN_FLAGS> = {
    ...estimateBody(dataset.id, flags),
    batchSize: flags.batchSize,
    learningRateMultiplier: flags.lrMultiplier,
    learningRate: flags.learningRate,
    suffix: flags.suffix,
    confirmOverBudget: flags.yes === true,
  };
  try {
    return await client.request<JobDto>("POST", "/api/training-jobs", body, TRAIN_FLAGS);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "confirmation_required") throw error;
    if (!(await confirm(`${error.message} Start anyway?`))) {
      throw new CliError(`${error.message} Run again with --yes to start anyway.`);
    }
    const confirmed = { ...body, confirmOverBudget: true };
    return client.request<JobDto>("POST", "/api/training-jobs", confirmed, TRAIN_FLAGS);
  }
}

const statusLine = (job: JobDto) =>
  `${job.status}${job.providerStatus && job.providerStatus !== job.status ? ` (${job.providerStatus})` : ""} ${job.progressPercent}% — ${job.currentStep ?? ""}`;

/**
 * Prints each update of the job as the server pushes it (Server-Sent Events), with the loss curve so far,
 * until the job ends or its tracking pauses.
 */
async function follow(client: ApiClient, id: string, json: boolean): Promise<JobDto> {
  const response = await client.send("GET", `/api/training-jobs/${encodeURIComponent(id)}/stream`);
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) throw new CliError("The server sent no event stream.");
  let buffer = "";
  let last: JobDto | undefined;
  let lastLine = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const job = parseJobEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        if (!job) continue;
        last = job;
        const line = statusLine(job);
        if (line !== lastLine) {
          lastLine = line;
          if (json) process.stderr.write(`${line}\n`);
          else await printUpdate(client, job, line);
        }
        if (isTerminal(job.status) || job.trackingPaused) return job;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  if (!last) throw new CliError("The event stream ended before any update.");
  return last;
}

function parseJobEvent(block: string): JobDto | undefined {
  const lines = block.split("\n");
  if (!lines.includes("event: job")) return undefined;
  const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart());
  return JSON.parse(data.join("\n")) as JobDto;
}

async function printUpdate(client: ApiClient, job: JobDto, line: string) {
  process.stdout.write(`${line}\n`);
  if (job.status !== "training" && job.status !== "completed") return;
  const { metrics } = await client.request<{ metrics: Metrics[] }>(
    "GET",
    `/api/training-jobs/${job.id}/events`,
  );
  const curve = lossCurve(metrics.map((m) => m.trainLoss));
  if (curve) process.stdout.write(`  train loss ${curve}\n`);
  const valid = lossCurve(metrics.map((m) => m.validLoss));
  if (valid) process.stdout.write(`  valid loss ${valid}\n`);
}

/** The job; `followed`: its status line was the last thing printed, and is not said again. */
function printJob(job: JobDto, followed = false) {
  // A failed job's step is "Failed: <the error>", in its status line: the error is said once.
  const errorShown = job.errorMessage && job.currentStep?.includes(job.errorMessage);
  const lines = [
    followed ? `Training job ${job.id}:` : `Training job ${job.id}: ${statusLine(job)}`,
    `  ${job.provider} ${job.baseModel}${job.providerJobId ? `, provider job ${job.providerJobId}` : ""}`,
    `  estimated ${formatUsd(job.estimatedCostUsd)}, actual ${formatUsd(job.actualCostUsd)}${job.trainedTokens ? `, ${job.trainedTokens} tokens trained` : ""}`,
    ...(job.fineTunedModel ? [`  fine-tuned model: ${job.fineTunedModel}`] : []),
    ...(job.errorMessage && !errorShown ? [`  error: ${job.errorMessage}`] : []),
    ...(job.trackingPaused ? [`  tracking paused: resume with \`fineflow jobs resume ${job.id}\``] : []),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * A followed job's end: a failure, or tracking paused before the job ended (it may still run at the
 * provider), exits 1 so that a script can tell them from a job that completed. The reason was printed
 * with the last status line.
 */
function finishFollowed(job: JobDto, json?: boolean) {
  if (json) printJson(job);
  else printJob(job, true);
  if (job.status === "failed") throw new CliError("The training job failed.");
  if (job.trackingPaused && !isTerminal(job.status)) {
    throw new CliError("Tracking paused before the job ended; it may still be running at the provider.");
  }
}

export function registerTrain(program: Command) {
  addEstimateOptions(program.command("estimate"))
    .description(
      "Cost preview: what training would cost, the month's spend, the budget and the projected total",
    )
    .option("--json", "print the preview as JSON")
    .action(async (flags: EstimateFlags) => {
      const preview = await withClient(loadConfig(process.env), "estimate", async (client) => {
        const dataset = await resolveDataset(client, flags.dataset, flags.project);
        const body = estimateBody(dataset.id, flags);
        return client.request<CostPreview>("POST", "/api/training/estimate", body, ESTIMATE_FLAGS);
      });
      if (flags.json) printJson(preview);
      else printPreview(preview);
    });

  addEstimateOptions(program.command("train"))
    .description("Start a fine-tuning job (key from `fineflow keys set`; budget checked first)")
    .option(
      "--batch-size <n>",
      "examples per batch (default: the provider's)",
      wholeNumberFlag(RANGES.batchSize),
    )
    .option("--lr-multiplier <x>", "OpenAI's learning-rate multiplier", parsePositiveNumber)
    .option("--learning-rate <x>", "Together AI's learning rate", parsePositiveNumber)
    .option("--suffix <text>", "added to the fine-tuned model's name")
    .option("--yes", "start even if the job would go over a warn-only budget")
    .option("--follow", "stay and print live status and the loss curve until the job ends")
    .option("--json", "print the job as JSON")
    .action(async (flags: TrainFlags) => {
      const job = await withClient(
        loadConfig(process.env),
        "train",
        async (client) => {
          const started = await startJob(client, flags);
          return flags.follow ? follow(client, started.id, flags.json === true) : started;
        },
        { worker: flags.follow === true },
      );
      if (flags.follow) return finishFollowed(job, flags.json);
      if (flags.json) return printJson(job);
      printJob(job);
      process.stdout.write(
        `It runs in the background of \`fineflow serve\` (or \`fineflow worker\`); follow it with \`fineflow jobs show ${job.id} --follow\`.\n`,
      );
    });

  const jobs = program.command("jobs").description("Training jobs: list, show, follow, cancel, resume");
  jobs
    .command("list")
    .description("Your training jobs, newest first")
    .option("--json", "print the jobs as JSON")
    .action(async (flags: { json?: boolean }) => {
      const { jobs: rows } = await withClient(loadConfig(process.env), "jobs list", (client) =>
        client.request<{ jobs: JobDto[] }>("GET", "/api/training-jobs"),
      );
      if (flags.json) return printJson(rows);
      printTable(
        rows.map((j) => ({
          id: j.id,
          provider: j.provider,
          model: j.baseModel,
          status: j.status,
          progress: `${j.progressPercent}%`,
          // An estimate is said to be one: a failed job that cost nothing showed its estimate as its cost.
          cost:
            j.actualCostUsd === null
              ? `${formatUsd(j.estimatedCostUsd)} (estimate)`
              : formatUsd(j.actualCostUsd),
        })),
        "No training jobs yet: start one with `fineflow train --dataset <name> --provider together --model <model>`.",
      );
    });
  jobs
    .command("show <id>")
    .description("One job; with --follow, live until it ends")
    .option("--follow", "stay and print live status and the loss curve")
    .option("--json", "print the job as JSON")
    .action(async (id: string, flags: { follow?: boolean; json?: boolean }) => {
      const job = await withClient(
        loadConfig(process.env),
        "jobs show",
        (client) =>
          flags.follow
            ? follow(client, id, flags.json === true)
            : client.request<JobDto>("GET", `/api/training-jobs/${encodeURIComponent(id)}`),
        { worker: flags.follow === true },
      );
      if (flags.follow) return finishFollowed(job, flags.json);
      if (flags.json) return printJson(job);
      printJob(job);
    });
  for (const [action, description, done] of [
    ["cancel", "Cancel a job (at the provider too); its dataset is ready again", "Cancelled"],
    ["resume", "Resume tracking a job whose tracking paused", "Tracking resumed for"],
  ] as const) {
    jobs
      .command(`${action} <id>`)
      .description(description)
      .option("--json", "print the job as JSON")
      .action(async (id: string, flags: { json?: boolean }) => {
        const job = await withClient(loadConfig(process.env), `jobs ${action}`, (client) =>
          client.request<JobDto>("POST", `/api/training-jobs/${encodeURIComponent(id)}/${action}`),
        );
        if (flags.json) return printJson(job);
        // Together takes a cancel as a request, and settles the job (and its cost) a little later.
        const said = action === "cancel" && job.status !== "cancelled" ? "Cancel requested for" : done;
        process.stdout.write(`${said} training job ${job.id}: ${statusLine(job)}\n`);
      });
  }
}
