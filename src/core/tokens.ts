import { createRequire } from "node:module";
import { O200K_TOKEN_SPLIT_REGEX } from "gpt-tokenizer/encodingParams/constants";
import { once } from "../once.js";
import type { PairMessage } from "./generation/types.js";

export type Encoding = "o200k_base" | "cl100k_base";

/**
 * Documents and examples are data: text that looks like `<|endoftext|>` is counted as characters, never as
 * control (the tokenizer's default refuses such text, which would stop a whole validation or ingest).
 */
export const PLAIN_TEXT = Object.freeze({ disallowedSpecial: new Set<string>() });

type Encoder = typeof import("gpt-tokenizer/encoding/o200k_base");
const require = createRequire(import.meta.url);
/**
 * An encoding's tables are loaded by its first use, not on import: each holds 35–45 MB in every thread that
 * loads it, and many never use them, such as the main thread of a process whose documents are analysed on
 * a thread of their own (AnalysisThread), which then held both encodings for nothing. Required from the
 * CommonJS build because counting is synchronous.
 */
export const o200k = once((): Encoder => require("gpt-tokenizer/cjs/encoding/o200k_base"));
const cl100k = once((): Encoder => require("gpt-tokenizer/cjs/encoding/cl100k_base"));

/** Distinct pre-tokens whose counts are kept (~6 MB); when full, the memo starts over. */
const PIECE_COUNTS_LIMIT = 100_000;
const pieceCounts = new Map<string, number>();
const SPLIT = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, O200K_TOKEN_SPLIT_REGEX.flags);

/** The pieces o200k encodes one by one (its pre-tokens): `text` cut where no token spans the cut. */
export const o200kPreTokens = (text: string): string[] => text.match(SPLIT) ?? [];

/**
 * The o200k count of plain text, exactly as gpt-tokenizer's `countTokens` gives it, about twice as fast.
 * The tokenizer splits text into pre-tokens with one regex and encodes each on its own, so a text's count
 * is the sum of its pre-tokens' counts, and each distinct one is counted once here. gpt-tokenizer's own
 * cache is an LRU that deletes and re-inserts an entry on every hit: on a 50 MB ingest that cost more
 * than splitting the text. A pre-token that would split differently on its own (none is known) is never
 * memoised: the text is then counted whole.
 */
export function countO200kTokens(text: string): number {
  let total = 0;
  // `match` gives the pieces as plain strings: a quarter faster than `matchAll`'s match objects.
  for (const piece of o200kPreTokens(text)) {
    let tokens = pieceCounts.get(piece);
    if (tokens === undefined) {
      const alone = piece.match(SPLIT);
      if (alone?.length !== 1 || alone[0] !== piece) return o200k().countTokens(text, PLAIN_TEXT);
      // V8 makes a match of 13 characters or more a view into the whole text: a copy keeps the memo from
      // holding every document it has seen.
      const key = piece.length < 13 ? piece : Array.from(piece).join("");
      tokens = o200k().countTokens(key, PLAIN_TEXT);
      if (pieceCounts.size >= PIECE_COUNTS_LIMIT) pieceCounts.clear();
      pieceCounts.set(key, tokens);
    }
    total += tokens;
  }
  return total;
}

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
  o200k_base: new Counter(countO200kTokens),
  cl100k_base: new Counter((text) => cl100k().countTokens(text, PLAIN_TEXT)),
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
