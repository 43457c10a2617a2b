import { countTokens as countCl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { countTokens as countO200k } from "gpt-tokenizer/encoding/o200k_base";
import type { PairMessage } from "./generation/types.js";

export type Encoding = "o200k_base" | "cl100k_base";

const COUNTERS: Record<Encoding, (text: string) => number> = {
  o200k_base: countO200k,
  cl100k_base: countCl100k,
};

/**
 * Tokens of a chat example as OpenAI's fine-tuning cookbook counts them: per message 3, plus the tokens
 * of every string in it (role and content), plus 1 for a `name`; plus 3 per example.
 */
export function countChatTokens(
  messages: readonly (PairMessage & { name?: string })[],
  encoding: Encoding = "o200k_base",
) {
  const count = COUNTERS[encoding];
  let tokens = 3;
  for (const message of messages) {
    tokens += 3 + count(message.role) + count(message.content);
    if (message.name !== undefined) tokens += 1 + count(message.name);
  }
  return tokens;
}
