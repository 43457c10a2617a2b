/**
 * Prices, dated, in one place (USD per 1M tokens). A model not listed has an unknown price: callers
 * show "unknown", never 0.
 */
export const PRICES_AS_OF = "2026-11-01";

/** Chat completions used for dataset generation: input and output tokens. */
const CHAT_PRICES: Record<string, { input: number; output: number }> = {
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gemini-2.0-flash": { input: 0.1, output: 0.4 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5 },
};

/** Snapshots (`gpt-4o-mini-2024-07-18`) cost what their family does. */
function chatPrice(model: string) {
  return CHAT_PRICES[model] ?? CHAT_PRICES[model.replace(/-\d{4}-\d{2}-\d{2}$/, "")];
}

/** The cost of one chat call, or undefined when the model's price is unknown. */
export function chatCostUsd(model: string, usage: { promptTokens: number; completionTokens: number }) {
  const price = chatPrice(model);
  if (!price) return undefined;
  return (usage.promptTokens * price.input + usage.completionTokens * price.output) / 1_000_000;
}

/**
 * Supervised fine-tuning, USD per 1M training tokens (SPEC §4.7). Together's are its LoRA prices by model
 * size; FineFlow asks Together's price-estimate endpoint first and falls back to this table. `local`
 * trains on the user's own hardware.
 */
const TRAINING_PRICES: Record<"openai" | "together", Record<string, number>> = {
  openai: {
    "gpt-4o-mini-2024-07-18": 3,
    "gpt-4o-2024-08-06": 25,
    "gpt-4.1-2025-04-14": 25,
    "gpt-4.1-mini-2025-04-14": 5,
    "gpt-4.1-nano-2025-04-14": 1.5,
  },
  together: {
    "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference": 0.48,
    "Qwen/Qwen2.5-7B-Instruct": 0.48,
    "meta-llama/Llama-3.3-70B-Instruct-Reference": 2.9,
  },
};

/** The price of training `model` per 1M tokens, or undefined when it is unknown (never 0 by accident). */
export function trainingPricePerMillion(provider: "openai" | "together" | "local", model: string) {
  if (provider === "local") return 0;
  const table = TRAINING_PRICES[provider];
  // A fine-tuned model trains further at its base's price: `ft:<base>:<org>:<suffix>:<id>`.
  const base = model.startsWith("ft:") ? (model.split(":")[1] ?? "") : model;
  return table[base];
}
