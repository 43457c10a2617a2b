import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../../config.js";
import {
  localBundleFiles,
  resolveTemplate,
  TRAIN_FILE,
  VALIDATION_FILE,
} from "../../core/export/local-bundle.js";
import { recommendedEpochs } from "../../core/models.js";
import { CliError, withClient } from "../connect.js";
import { parseFraction, parseWholeNumber, wholeNumberFlag } from "../flags.js";
import { printJson } from "../output.js";
import { resolveDataset } from "../resolve-dataset.js";
import { downloadExport, EXPORT_FLAGS, leftOutNote, validateCommand } from "./files.js";

interface BundleFlags {
  dataset: string;
  project?: string;
  baseModel: string;
  out: string;
  template?: string;
  epochs?: number;
  split?: number;
  seed?: number;
  sequenceLen: number;
  json?: boolean;
}

const DEFAULT_SEQUENCE_LENGTH = 4096;
/** The bundle's data files: OpenAI's chat format, which both Axolotl and LLaMA-Factory read. */
const FORMAT = "openai";

/** The `local` provider: a folder to fine-tune from on one's own GPU, with Axolotl or LLaMA-Factory. */
export function registerBundle(program: Command) {
  program
    .command("bundle")
    .description(
      "Write a ready-to-run folder for fine-tuning on your own GPU: the dataset plus Axolotl and LLaMA-Factory configs",
    )
    .requiredOption("--dataset <name>", "the dataset (name or id)")
    .option("--project <name>", "the project, when several have a dataset of that name")
    .requiredOption(
      "--base-model <id>",
      "the open model to fine-tune (Hugging Face id, e.g. Qwen/Qwen2.5-7B-Instruct)",
    )
    .requiredOption("--out <dir>", "the folder to write")
    .option("--template <name>", "LLaMA-Factory's chat template, when FineFlow cannot tell it from the model")
    .option(
      "--epochs <n>",
      "epochs to train (default: as OpenAI's auto picks for the dataset's size)",
      wholeNumberFlag({ min: 1 }),
    )
    .option("--split <fraction>", "hold out this share of pairs for validation (e.g. 0.1)", parseFraction)
    .option("--seed <n>", "the split's seed (default 42)", parseWholeNumber)
    .option(
      "--sequence-len <n>",
      `the longest example in tokens; longer ones are left out (default ${DEFAULT_SEQUENCE_LENGTH})`,
      wholeNumberFlag({ min: 1 }),
      DEFAULT_SEQUENCE_LENGTH,
    )
    .option("--json", "print what was written as JSON")
    .action(async (flags: BundleFlags) => {
      const template = resolveTemplate(flags.baseModel, flags.template); // before anything is downloaded
      const split = flags.split === 0 ? undefined : flags.split;
      const written = await withClient(loadConfig(process.env), "bundle", async (client) => {
        const dataset = await resolveDataset(client, flags.dataset, flags.project);
        await mkdir(join(flags.out, "data"), { recursive: true });
        // The base model is unknown to FineFlow's tables, so its limit is the sequence length given.
        const exportFlags = {
          format: FORMAT,
          systemPrompt: true,
          model: flags.baseModel,
          maxTokens: flags.sequenceLen,
          split,
          seed: flags.seed,
        };
        const { files: data, leftOut } = await downloadExport(
          client,
          dataset,
          exportFlags,
          (part) => join(flags.out, part === "validation" ? VALIDATION_FILE : TRAIN_FILE),
          { ...EXPORT_FLAGS, model: "--base-model", hardTokenLimit: "--sequence-len" },
        );
        const [train, validation] = [data[0]?.lines ?? 0, data[1]?.lines ?? 0];
        if (train === 0) {
          throw new CliError(
            `Dataset "${dataset.name}" has no valid example to train on; see \`fineflow validate\`.`,
          );
        }
        const files = localBundleFiles({
          datasetName: dataset.name,
          baseModel: flags.baseModel,
          template,
          epochs: flags.epochs ?? recommendedEpochs(train + validation),
          trainExamples: train,
          validationExamples: validation,
          sequenceLength: flags.sequenceLen,
        });
        for (const file of files) await writeFile(join(flags.out, file.path), file.content);
        return {
          train,
          validation,
          leftOut,
          files: [...data.map((d) => d.file), ...files.map((f) => join(flags.out, f.path))],
        };
      });
      if (flags.json) return printJson({ out: flags.out, ...written });
      const examples = written.validation
        ? `${written.train} training and ${written.validation} validation examples`
        : `${written.train} training examples`;
      process.stdout.write(
        `Wrote ${examples} and Axolotl and LLaMA-Factory configs to ${flags.out}.\n` +
          leftOutNote(
            written.leftOut,
            FORMAT,
            validateCommand(flags.dataset, {
              project: flags.project,
              model: flags.baseModel,
              maxTokens: flags.sequenceLen,
            }),
            "no flag",
          ) +
          `Train on your GPU from there: \`axolotl train axolotl.yaml\` or \`llamafactory-cli train llamafactory.yaml\` (see README.md).\n`,
      );
    });
}
