/**
 * The `local` provider (SPEC §4.6): instead of a hosted job, a folder the user trains from on their own GPU
 * with Axolotl or LLaMA-Factory. The dataset goes in as OpenAI-style `messages` JSONL, which both read as
 * is; this module writes everything else — both configs, LLaMA-Factory's dataset registry and a how-to.
 * With OpenAI closing self-serve fine-tuning, this is how a dataset made here outlives any one provider.
 */
import { stringify } from "yaml";
import { ValidationError } from "../errors.js";

export interface LocalBundleInput {
  datasetName: string;
  /** A Hugging Face model id, e.g. `meta-llama/Llama-3.1-8B-Instruct`, or a local path to one. */
  baseModel: string;
  /** LLaMA-Factory's chat template; guessed from the model id when absent. */
  template?: string;
  epochs: number;
  trainExamples: number;
  validationExamples: number;
  sequenceLength: number;
}

export interface BundleFile {
  /** Relative to the bundle's folder. */
  path: string;
  content: string;
}

export const TRAIN_FILE = "data/train.jsonl";
export const VALIDATION_FILE = "data/validation.jsonl";

/** LoRA defaults that fit a 7–8B model on one 24 GB GPU; the how-to says which knobs to turn. */
const LORA = { rank: 16, alpha: 32, dropout: 0.05 };
const LEARNING_RATE = 2e-4;
const MICRO_BATCH = 2;
const GRADIENT_ACCUMULATION = 4;

/**
 * Model families to LLaMA-Factory template names, first match wins (Qwen 3 before Qwen 2). A template that
 * does not match the model trains a model that answers in the wrong format, so an unknown family is asked
 * for rather than guessed.
 */
const TEMPLATES: readonly [RegExp, string][] = [
  [/llama-?3/i, "llama3"],
  [/qwen-?3/i, "qwen3"],
  [/qwen/i, "qwen"],
  [/mistral|mixtral/i, "mistral"],
  [/gemma-?3/i, "gemma3"],
  [/gemma/i, "gemma"],
  [/phi-?4/i, "phi4"],
  [/phi-?3/i, "phi"],
  [/deepseek/i, "deepseek3"],
];

export function llamaFactoryTemplate(baseModel: string): string | undefined {
  return TEMPLATES.find(([family]) => family.test(baseModel))?.[1];
}

/** The template to train with: the one given, else the model family's; an unknown family is an error. */
export function resolveTemplate(baseModel: string, template?: string): string {
  if (!/^\S+$/.test(baseModel)) {
    throw ValidationError.forField(
      "baseModel",
      "must be a Hugging Face model id (org/model) or a local path",
    );
  }
  const resolved = template ?? llamaFactoryTemplate(baseModel);
  if (!resolved) {
    throw ValidationError.forField(
      "template",
      `FineFlow does not know the chat template of ${baseModel}; pass LLaMA-Factory's template name (e.g. llama3, qwen, mistral)`,
    );
  }
  return resolved;
}

export function localBundleFiles(input: LocalBundleInput): BundleFile[] {
  const template = resolveTemplate(input.baseModel, input.template);
  const validation = input.validationExamples > 0;
  return [
    { path: "axolotl.yaml", content: axolotlConfig(input, validation) },
    { path: "llamafactory.yaml", content: llamaFactoryConfig(input, template, validation) },
    { path: "data/dataset_info.json", content: `${JSON.stringify(datasetInfo(validation), null, 2)}\n` },
    { path: "README.md", content: howTo(input, template, validation) },
  ];
}

/** `header` becomes a comment line: callers quote what they put in it, so a line break cannot end it. */
function yaml(header: string, config: Record<string, unknown>): string {
  return `# ${header}\n${stringify(config, { lineWidth: 0 })}`;
}

/** Axolotl reads OpenAI-style messages with `type: chat_template`, using the model's own template. */
function axolotlConfig(input: LocalBundleInput, validation: boolean): string {
  const dataset = (path: string) => ({
    path,
    ds_type: "json",
    split: "train",
    type: "chat_template",
    field_messages: "messages",
    roles_to_train: ["assistant"],
  });
  return yaml(
    `Axolotl: axolotl train axolotl.yaml (made by FineFlow for ${JSON.stringify(input.datasetName)})`,
    {
      base_model: input.baseModel,
      chat_template: "tokenizer_default",
      datasets: [dataset(TRAIN_FILE)],
      ...(validation ? { test_datasets: [dataset(VALIDATION_FILE)] } : { val_set_size: 0 }),
      adapter: "lora",
      lora_r: LORA.rank,
      lora_alpha: LORA.alpha,
      lora_dropout: LORA.dropout,
      lora_target_linear: true,
      sequence_len: input.sequenceLength,
      sample_packing: false,
      micro_batch_size: MICRO_BATCH,
      gradient_accumulation_steps: GRADIENT_ACCUMULATION,
      num_epochs: input.epochs,
      optimizer: "adamw_torch",
      lr_scheduler: "cosine",
      learning_rate: LEARNING_RATE,
      warmup_ratio: 0.03,
      bf16: "auto",
      gradient_checkpointing: true,
      logging_steps: 10,
      ...(validation ? { eval_strategy: "epoch" } : {}),
      output_dir: "./outputs/axolotl",
    },
  );
}

function llamaFactoryConfig(input: LocalBundleInput, template: string, validation: boolean): string {
  return yaml(
    `LLaMA-Factory: llamafactory-cli train llamafactory.yaml (made by FineFlow for ${JSON.stringify(input.datasetName)})`,
    {
      model_name_or_path: input.baseModel,
      stage: "sft",
      do_train: true,
      finetuning_type: "lora",
      lora_rank: LORA.rank,
      lora_alpha: LORA.alpha,
      lora_dropout: LORA.dropout,
      lora_target: "all",
      dataset_dir: "data",
      dataset: "fineflow_train",
      ...(validation ? { eval_dataset: "fineflow_validation", eval_strategy: "epoch" } : {}),
      template,
      cutoff_len: input.sequenceLength,
      per_device_train_batch_size: MICRO_BATCH,
      gradient_accumulation_steps: GRADIENT_ACCUMULATION,
      learning_rate: LEARNING_RATE,
      num_train_epochs: input.epochs,
      lr_scheduler_type: "cosine",
      warmup_ratio: 0.03,
      bf16: true,
      logging_steps: 10,
      save_strategy: "epoch",
      output_dir: "outputs/llamafactory",
    },
  );
}

/** LLaMA-Factory's registry entry for OpenAI-style messages: sharegpt formatting with OpenAI's tags. */
function datasetInfo(validation: boolean): Record<string, unknown> {
  const entry = (file: string) => ({
    file_name: file.replace(/^data\//, ""),
    formatting: "sharegpt",
    columns: { messages: "messages" },
    tags: {
      role_tag: "role",
      content_tag: "content",
      user_tag: "user",
      assistant_tag: "assistant",
      system_tag: "system",
    },
  });
  return {
    fineflow_train: entry(TRAIN_FILE),
    ...(validation ? { fineflow_validation: entry(VALIDATION_FILE) } : {}),
  };
}

function howTo(input: LocalBundleInput, template: string, validation: boolean): string {
  const examples = validation
    ? `${input.trainExamples} training and ${input.validationExamples} validation examples`
    : `${input.trainExamples} training examples`;
  return `# Fine-tune ${input.baseModel} on "${input.datasetName}"

Made by FineFlow: ${examples} in \`data/\` (OpenAI-style \`messages\`, one example a line), and configs for
two trainers. Both train a LoRA adapter for ${input.epochs} epoch${input.epochs === 1 ? "" : "s"}; run
either from this folder on a machine with an NVIDIA GPU (about 24 GB for a 7–8B model).

## Axolotl

    pip install axolotl
    axolotl train axolotl.yaml

The adapter is written to \`outputs/axolotl\`.

## LLaMA-Factory

    pip install llamafactory
    llamafactory-cli train llamafactory.yaml

The adapter is written to \`outputs/llamafactory\`. The chat template is \`${template}\`; it must match the
model's family, or the model learns to answer in the wrong format.

## Adjusting

- Out of GPU memory: lower \`micro_batch_size\` / \`per_device_train_batch_size\` (and raise gradient
  accumulation to keep the effective batch), lower \`sequence_len\` / \`cutoff_len\` (now
  ${input.sequenceLength} tokens), or load the model in 4 bits (Axolotl: \`adapter: qlora\` and
  \`load_in_4bit: true\`; LLaMA-Factory: \`quantization_bit: 4\`).
- A gated model (Llama, Gemma) needs \`huggingface-cli login\` with an account that accepted its licence.
`;
}
