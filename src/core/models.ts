/**
 * The base models FineFlow can fine-tune, in one table: which tokenizer counts their examples and how many
 * tokens one training example may have. A model not listed (Together's open models, a snapshot added after
 * this table) still validates: counted with o200k_base, and with no hard limit unless the caller sets one.
 */
import type { Encoding } from "./tokens.js";

/** The base model validation checks against when none is named, in the API, the CLI and the web app. */
export const DEFAULT_MODEL = "gpt-4o-mini-2024-07-18";

export interface ModelInfo {
  encoding: Encoding;
  /** Tokens one training example may have; longer examples are truncated and billed up to it. */
  hardTokenLimit: number | undefined;
  /** Whether the model is in this table (an unknown model's limit is the caller's to configure). */
  known: boolean;
}

interface TableEntry {
  encoding: Encoding;
  hardTokenLimit: number;
  /** The undated name that stands for this snapshot, as the API's aliases do. */
  family?: string;
}

/**
 * Per-example limits from OpenAI's fine-tuning guide ("Token limits"). The guide lists 65,536 for
 * gpt-4o and gpt-4o-mini; for the gpt-4.1 family it could not be confirmed from a stored copy of the guide,
 * so it is assumed to be the same 65,536 training context until a source says otherwise.
 */
const MODELS: Readonly<Record<string, TableEntry>> = {
  "gpt-4o-mini-2024-07-18": { encoding: "o200k_base", hardTokenLimit: 65_536, family: "gpt-4o-mini" },
  "gpt-4o-2024-08-06": { encoding: "o200k_base", hardTokenLimit: 65_536, family: "gpt-4o" },
  "gpt-4.1-2025-04-14": { encoding: "o200k_base", hardTokenLimit: 65_536, family: "gpt-4.1" },
  "gpt-4.1-mini-2025-04-14": { encoding: "o200k_base", hardTokenLimit: 65_536, family: "gpt-4.1-mini" },
  "gpt-4.1-nano-2025-04-14": { encoding: "o200k_base", hardTokenLimit: 65_536, family: "gpt-4.1-nano" },
  // The family name points at the newer snapshot, which is what the API's alias resolves to.
  "gpt-3.5-turbo-0125": { encoding: "cl100k_base", hardTokenLimit: 16_385, family: "gpt-3.5-turbo" },
  "gpt-3.5-turbo-1106": { encoding: "cl100k_base", hardTokenLimit: 16_385 },
  "gpt-4-0613": { encoding: "cl100k_base", hardTokenLimit: 8_192, family: "gpt-4" },
};

const FAMILIES: ReadonlyMap<string, TableEntry> = new Map(
  Object.values(MODELS).flatMap((entry) => (entry.family ? [[entry.family, entry] as const] : [])),
);

/** The snapshots in the table, for pickers and documentation. */
export const FINE_TUNABLE_MODELS: readonly string[] = Object.freeze(Object.keys(MODELS));

/** OpenAI names a fine-tuned model `ft:<base>:<org>:<suffix>:<id>`; fine-tuning it again keeps the base's limits. */
function baseModel(model: string): string {
  const trimmed = model.trim();
  return trimmed.startsWith("ft:") ? (trimmed.split(":")[1] ?? "") : trimmed;
}

export function modelInfo(model: string): ModelInfo {
  const name = baseModel(model);
  const entry = MODELS[name] ?? FAMILIES.get(name);
  if (!entry) return { encoding: "o200k_base", hardTokenLimit: undefined, known: false };
  return { encoding: entry.encoding, hardTokenLimit: entry.hardTokenLimit, known: true };
}

// OpenAI's `auto` epochs aim at 100–25,000 examples seen in training, 3 passes when that is possible.
const TARGET_EPOCHS = 3;
const MIN_TARGET_EXAMPLES = 100;
const MAX_TARGET_EXAMPLES = 25_000;
const MIN_DEFAULT_EPOCHS = 1;
const MAX_DEFAULT_EPOCHS = 25;

/** The epochs OpenAI's `n_epochs: "auto"` picks for `n` training examples. */
export function recommendedEpochs(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (n * TARGET_EPOCHS < MIN_TARGET_EXAMPLES) {
    return Math.min(MAX_DEFAULT_EPOCHS, Math.floor(MIN_TARGET_EXAMPLES / n));
  }
  if (n * TARGET_EPOCHS > MAX_TARGET_EXAMPLES) {
    return Math.max(MIN_DEFAULT_EPOCHS, Math.floor(MAX_TARGET_EXAMPLES / n));
  }
  return TARGET_EPOCHS;
}
