import { countTokens as countCl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { countTokens as countO200k } from "gpt-tokenizer/encoding/o200k_base";
import type { PairMessage } from "./generation/types.js";

export type Encoding = "o200k_base" | "cl100k_base";

/**
 * Documents and examples are data: text that looks like `<|endoftext|>` is counted as characters, never as
 * control (the tokenizer's default refuses such text, which would stop a whole validation or ingest).
 */
export const PLAIN_TEXT = Object.freeze({ disallowedSpecial: new Set<string>() });

type Count = typeof countO200k;
const plain =
  (count: Count) =>
  (text: string): number =>
    count(text, PLAIN_TEXT);

/**
 * A dataset gives every example the same system prompt, and a validation or an import counts tens of
 * thousands of examples: the last system prompt's count (and each role's) is kept instead of recounted.
 */
class Counter {
  private readonly roles = new Map<string, number>();
  private lastSystem = { content: "", tokens: 0 };

  constructor(readonly count: (text: string) => number) {}

  role(role: PairMessage["role"]): number {
    let tokens = this.roles.get(role);
    if (tokens === undefined) {
      tokens = this.count(role);
      this.roles.set(role, tokens);
    }
    return tokens;
  }

  content(message: PairMessage): number {
    if (message.role !== "system") return this.count(message.content);
    if (message.content !== this.lastSystem.content) {
      this.lastSystem = { content: message.content, tokens: this.count(message.content) };
    }
    return this.lastSystem.tokens;
  }
}

const COUNTERS: Record<Encoding, Counter> = {
  o200k_base: new Counter(plain(countO200k)),
  cl100k_base: new Counter(plain(countCl100k)),
};

/**
 * Tokens of a chat example as OpenAI's fine-tuning cookbook counts them: per message 3, plus the tokens
 * of every string in it (role and content), plus 1 for a `name`; plus 3 per example.
 */
export function countChatTokens(
  messages: readonly (PairMessage & { name?: string })[],
  encoding: Encoding = "o200k_base",
) {
  const counter = COUNTERS[encoding];
  let tokens = 3;
  for (const message of messages) {
    tokens += 3 + counter.role(message.role) + counter.content(message);
    if (message.name !== undefined) tokens += 1 + counter.count(message.name);
  }
  return tokens;
}
