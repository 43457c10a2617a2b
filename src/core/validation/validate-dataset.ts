/**
 * Dataset validation before export or training (the seed's Step 5, SPEC §4.4), in one pass over a stream
 * of pairs. Per pair it keeps only numbers in typed arrays: its token count, 64-bit hashes of its
 * normalised text and question, and a sketch in a bounded near-duplicate index, so memory grows by a few
 * hundred bytes a pair, not by the pairs' text.
 */

import type { PairMessage } from "../generation/types.js";
import { GrowingUint32Array } from "../growing-uint32-array.js";
import { DEFAULT_MODEL, modelInfo, recommendedEpochs } from "../models.js";
import { normalizeForHash } from "../near-duplicates.js";
import { countChatTokens, type Encoding } from "../tokens.js";
import { type ChatMessage, checkChatFormat, FORMAT_ERROR_CODES } from "./chat-format.js";
import { FlaggedPairs, type PairRef, pairs, type ValidationIssue } from "./flagged-pairs.js";
import { NearDuplicateSketchIndex } from "./near-duplicate-sketch-index.js";
import { findSensitiveData } from "./sensitive-data.js";
import { textKey, Uint64KeyTable } from "./uint64-key-table.js";

export type { ValidationIssue } from "./flagged-pairs.js";

export interface ValidationResult {
  valid: boolean;
  /** Blocking issues, readable, each naming the pairs it concerns. */
  errors: string[];
  /** Non-blocking issues, likewise. */
  warnings: string[];
  /** The same issues, structured. */
  issues: ValidationIssue[];
  stats: ValidationStats;
}

export interface ValidationStats {
  totalPairs: number;
  avgTokensPerPair: number;
  /** Over the pairs that have a score; null when none has (an imported dataset's pairs have none). */
  avgQualityScore: number | null;
  /** Distinct normalised first user messages. */
  uniqueQuestions: number;
  /** Over the pairs whose format allows counting them (nearest-rank percentiles). */
  tokens: { min: number; p50: number; p95: number; max: number };
  /** What one epoch bills: each example up to the model's hard limit. */
  billableTokens: number;
  recommendedEpochs: number;
  model: string;
  encoding: Encoding;
}

export interface ValidationOptions {
  /** The base model to fine-tune; it picks the tokenizer and the hard token limit. */
  model?: string;
  /** Overrides the model table's limit; the only limit an unknown model has. */
  hardTokenLimit?: number;
  minPairs?: number;
  recommendedPairs?: number;
  /** The seed's recommended example length. */
  softTokenLimit?: number;
  /** Quality scores below this are flagged. */
  lowQuality?: number;
  /** Estimated Jaccard similarity of two pairs' word shingles from which they count as near-duplicates. */
  nearDuplicateThreshold?: number;
  /** How many pairs will come, when known: memory is then set aside once instead of grown (not a rule). */
  expectedPairs?: number;
}

export interface ValidationPair {
  id: string;
  /** 1-based position in the exported or imported file. */
  line: number;
  /** Unchecked on purpose: imported files are validated with the same rules. */
  messages: unknown;
  qualityScore?: number | null;
}

/** The fewest examples a fine-tuning job takes (OpenAI's minimum). */
export const MIN_TRAINING_PAIRS = 10;

const DEFAULTS = {
  minPairs: MIN_TRAINING_PAIRS,
  recommendedPairs: 50,
  softTokenLimit: 4096,
  lowQuality: 0.3,
  nearDuplicateThreshold: 0.9,
};

type Settings = typeof DEFAULTS & { model: string; encoding: Encoding; hardTokenLimit: number | undefined };

/** The issues flagged per pair, in the order results list them. */
const PAIR_ERRORS = [...FORMAT_ERROR_CODES, "empty_content", "over_token_limit", "exact_duplicate"] as const;
const PAIR_WARNINGS = [
  "over_recommended_tokens",
  "near_duplicate",
  "conflicting_answers",
  "low_quality",
  "secret",
  "personal_data",
] as const;
type PairIssueCode = (typeof PAIR_ERRORS)[number] | (typeof PAIR_WARNINGS)[number];
const ERROR_CODES: ReadonlySet<PairIssueCode> = new Set(PAIR_ERRORS);

/** Stands for the answer of a pair with no assistant reply after its question: a NUL, which no reply is. */
const NO_REPLY = "\u0000";

export class DatasetValidator {
  private readonly settings: Settings;
  private readonly flagged = new FlaggedPairs();
  private totalPairs = 0;
  private qualitySum = 0;
  private qualityCount = 0;
  private readonly tokenCounts: GrowingUint32Array;
  private tokenSum = 0;
  private billableTokens = 0;
  /** Normalised pair → line of its first occurrence. */
  private readonly pairKeys: Uint64KeyTable;
  /** Normalised question → its index in `answerKeys` and `questionLines`. */
  private readonly questions: Uint64KeyTable;
  private readonly answerKeys: GrowingUint32Array;
  private readonly questionLines: GrowingUint32Array;
  private readonly nearDuplicates: NearDuplicateSketchIndex;
  /** Whether the pair being added has been flagged with an error. */
  private currentHasError = false;

  constructor(options: ValidationOptions = {}) {
    this.settings = resolveSettings(options);
    const expected = Math.max(1024, options.expectedPairs ?? 0);
    this.tokenCounts = new GrowingUint32Array(expected);
    this.pairKeys = new Uint64KeyTable(expected);
    this.questions = new Uint64KeyTable(expected);
    this.answerKeys = new GrowingUint32Array(expected);
    this.questionLines = new GrowingUint32Array(expected);
    this.nearDuplicates = new NearDuplicateSketchIndex(
      this.settings.nearDuplicateThreshold,
      undefined,
      expected,
    );
  }

  /**
   * Checks one pair; false when it has an error. Every error a pair can have is decided by the pairs before
   * it, so an export can leave invalid pairs out in the same pass that validates them.
   */
  add(pair: ValidationPair): boolean {
    this.currentHasError = false;
    this.check(pair);
    return !this.currentHasError;
  }

  private check(pair: ValidationPair): void {
    assertPairRef(pair);
    this.totalPairs++;
    this.checkQuality(pair);
    const format = checkChatFormat(pair.messages);
    if (!format.messages) {
      for (const code of format.errors) this.flag(code, pair);
      return;
    }
    const { messages } = format;
    this.checkTokens(pair, messages);
    this.checkBlankContent(pair, messages);
    this.checkSensitiveData(pair, messages);
    const normalized = messages.map((m) => ({ ...m, content: normalizeForHash(m.content) }));
    this.checkQuestion(pair, normalized);
    if (this.checkExactDuplicate(pair, normalized)) return;
    this.checkNearDuplicate(pair, normalized);
  }

  result(): ValidationResult {
    const issues = [...this.datasetIssues(), ...this.pairIssues()].sort(
      (a, b) => severityRank(a.severity) - severityRank(b.severity),
    );
    const errors = issues.filter((issue) => issue.severity === "error").map((issue) => issue.message);
    const warnings = issues.filter((issue) => issue.severity === "warning").map((issue) => issue.message);
    return { valid: errors.length === 0, errors, warnings, issues, stats: this.stats() };
  }

  /**
   * What the validator holds, for tests and benchmarks: near-duplicate bucket entries and the bytes of
   * its per-pair typed arrays (spare capacity included; the flagged pairs' ids are not counted).
   */
  footprint(): { nearDuplicateEntries: number; bytes: number } {
    const arrays = [this.tokenCounts, this.pairKeys, this.questions, this.answerKeys, this.questionLines];
    const bytes = arrays.reduce((sum, array) => sum + array.byteLength, this.nearDuplicates.byteLength);
    return { nearDuplicateEntries: this.nearDuplicates.entries, bytes };
  }

  private flag(code: PairIssueCode, pair: PairRef, detail?: { note?: string; kinds?: string[] }): void {
    if (ERROR_CODES.has(code)) this.currentHasError = true;
    this.flagged.flag(code, pair, detail);
  }

  private checkQuality(pair: ValidationPair): void {
    const score = pair.qualityScore;
    if (typeof score !== "number" || !Number.isFinite(score)) return;
    this.qualitySum += score;
    this.qualityCount++;
    if (score < this.settings.lowQuality) this.flag("low_quality", pair);
  }

  /** Counted exactly as export counts, with the target model's tokenizer. */
  private checkTokens(pair: ValidationPair, messages: ChatMessage[]): void {
    // Roles are counted as text, so the cookbook's "function" role counts like the three PairMessage has.
    const tokens = countChatTokens(messages as (PairMessage & { name?: string })[], this.settings.encoding);
    const limit = this.settings.hardTokenLimit;
    this.tokenCounts.push(tokens);
    this.tokenSum += tokens;
    this.billableTokens += limit === undefined ? tokens : Math.min(tokens, limit);
    if (limit !== undefined && tokens > limit) this.flag("over_token_limit", pair);
    else if (tokens > this.settings.softTokenLimit) this.flag("over_recommended_tokens", pair);
  }

  /** "" is the cookbook's `missing_content`; this catches what it lets through, text of only spaces. */
  private checkBlankContent(pair: ValidationPair, messages: ChatMessage[]): void {
    if (messages.some((m) => m.content !== "" && BLANK.test(m.content))) this.flag("empty_content", pair);
  }

  /** One scan of all the messages: no rule matches across the separator, which is neither space nor text. */
  private checkSensitiveData(pair: ValidationPair, messages: ChatMessage[]): void {
    const found = findSensitiveData(messages.map((m) => m.content).join(MESSAGE_SEPARATOR));
    if (found.secrets.length > 0) this.flag("secret", pair, { kinds: found.secrets });
    if (found.personalData.length > 0) this.flag("personal_data", pair, { kinds: found.personalData });
  }

  /**
   * A pair is flagged when its question was asked before with a different first answer; the earlier pair
   * is named in the note rather than flagged again, so each contradiction is listed once.
   */
  private checkQuestion(pair: ValidationPair, normalized: ChatMessage[]): void {
    const exchange = firstExchange(normalized);
    if (!exchange) return;
    const question = textKey(exchange.question);
    // 32 bits tell answers apart well enough: a collision only hides one warning.
    const answer = textKey(exchange.answer ?? NO_REPLY).lo;
    const seen = this.questions.get(question.hi, question.lo);
    if (seen === undefined) {
      this.questions.set(question.hi, question.lo, this.answerKeys.length);
      this.answerKeys.push(answer);
      this.questionLines.push(pair.line);
      return;
    }
    if (this.answerKeys.at(seen) !== answer) {
      this.flag("conflicting_answers", pair, { note: `asked in line ${this.questionLines.at(seen)}` });
    }
  }

  /** Up to case, punctuation and spacing, as chunks are deduplicated. */
  private checkExactDuplicate(pair: ValidationPair, normalized: ChatMessage[]): boolean {
    const key = textKey(normalized.map(messageKey).join(MESSAGE_SEPARATOR));
    const firstLine = this.pairKeys.get(key.hi, key.lo);
    if (firstLine === undefined) {
      this.pairKeys.set(key.hi, key.lo, pair.line);
      return false;
    }
    this.flag("exact_duplicate", pair, { note: `same as line ${firstLine}` });
    return true;
  }

  /** System messages are left out: a shared system prompt would make every pair look alike. */
  private checkNearDuplicate(pair: ValidationPair, normalized: ChatMessage[]): void {
    const text = normalized
      .filter((m) => m.role !== "system")
      .map((m) => m.content)
      .join(" ");
    const match = this.nearDuplicates.add(text, pair.line);
    if (match) this.flag("near_duplicate", pair, { note: `like line ${match.label}` });
  }

  private datasetIssues(): ValidationIssue[] {
    const { minPairs, recommendedPairs } = this.settings;
    const total = pairs(this.totalPairs);
    if (this.totalPairs < minPairs) {
      return [datasetIssue("too_few_pairs", "error", `${total}: fine-tuning needs at least ${minPairs}`)];
    }
    if (this.totalPairs < recommendedPairs) {
      return [datasetIssue("few_pairs", "warning", `${total}: at least ${recommendedPairs} are recommended`)];
    }
    return [];
  }

  private pairIssues(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    for (const code of PAIR_ERRORS) {
      const issue = this.flagged.issue(code, "error", this.headline(code));
      if (issue) issues.push(issue);
    }
    for (const code of PAIR_WARNINGS) {
      const issue = this.flagged.issue(code, "warning", this.headline(code));
      if (issue) issues.push(issue);
    }
    return issues;
  }

  private headline(code: PairIssueCode): string {
    const { settings } = this;
    const n = pairs(this.flagged.count(code));
    const kinds = this.flagged.kinds(code).join(", ");
    switch (code) {
      case "data_type":
        return `${n} whose messages are not a list of objects (data_type)`;
      case "missing_messages_list":
        return `${n} without messages (missing_messages_list)`;
      case "message_missing_key":
        return `${n} with a message lacking its role or content (message_missing_key)`;
      case "message_unrecognized_key":
        return `${n} with a message key other than role, content, name, function_call or weight (message_unrecognized_key)`;
      case "unrecognized_role":
        return `${n} with a role other than system, user, assistant or function (unrecognized_role)`;
      case "missing_content":
        return `${n} with a message without text content (missing_content)`;
      case "example_missing_assistant_message":
        return `${n} without an assistant message (example_missing_assistant_message)`;
      case "empty_content":
        return `${n} with a message of only whitespace`;
      case "over_token_limit":
        return `${n} over ${tokens(settings.hardTokenLimit ?? 0)} (the limit for ${settings.model})`;
      case "exact_duplicate":
        return `${n} repeating an earlier pair`;
      case "over_recommended_tokens":
        return `${n} over ${tokens(settings.softTokenLimit)} (the recommended maximum)`;
      case "near_duplicate":
        return `${n} nearly the same as an earlier pair (${Math.round(settings.nearDuplicateThreshold * 100)}% similar or more)`;
      case "conflicting_answers":
        return `${n} asking an earlier pair's question with a different answer`;
      case "low_quality":
        return `${n} with a quality score below ${settings.lowQuality}`;
      case "secret":
        return `${n} containing secrets (${kinds})`;
      case "personal_data":
        return `${n} containing personal data (${kinds})`;
    }
  }

  private stats(): ValidationStats {
    const counted = this.tokenCounts.length;
    return {
      totalPairs: this.totalPairs,
      avgTokensPerPair: counted === 0 ? 0 : this.tokenSum / counted,
      avgQualityScore: this.qualityCount === 0 ? null : this.qualitySum / this.qualityCount,
      uniqueQuestions: this.questions.size,
      tokens: percentiles(this.tokenCounts.view()),
      billableTokens: this.billableTokens,
      recommendedEpochs: recommendedEpochs(this.totalPairs),
      model: this.settings.model,
      encoding: this.settings.encoding,
    };
  }
}

export function validatePairs(
  pairs: Iterable<ValidationPair>,
  options?: ValidationOptions,
): ValidationResult {
  const validator = new DatasetValidator(options);
  for (const pair of pairs) validator.add(pair);
  return validator.result();
}

function resolveSettings(options: ValidationOptions): Settings {
  const model = options.model ?? DEFAULT_MODEL;
  const info = modelInfo(model);
  const hardTokenLimit = options.hardTokenLimit ?? info.hardTokenLimit;
  if (hardTokenLimit !== undefined && !(Number.isInteger(hardTokenLimit) && hardTokenLimit > 0)) {
    throw new RangeError(`hardTokenLimit must be a positive integer, got ${hardTokenLimit}`);
  }
  return {
    model,
    encoding: info.encoding,
    hardTokenLimit,
    minPairs: options.minPairs ?? DEFAULTS.minPairs,
    recommendedPairs: options.recommendedPairs ?? DEFAULTS.recommendedPairs,
    softTokenLimit: options.softTokenLimit ?? DEFAULTS.softTokenLimit,
    lowQuality: options.lowQuality ?? DEFAULTS.lowQuality,
    nearDuplicateThreshold: options.nearDuplicateThreshold ?? DEFAULTS.nearDuplicateThreshold,
  };
}

function assertPairRef(pair: ValidationPair): void {
  if (!Number.isInteger(pair.line) || pair.line < 1) {
    throw new RangeError(`pair ${pair.id}: line must be a positive integer, got ${pair.line}`);
  }
}

// Zero-width characters (\p{Cf}) are invisible, so a message of them is as blank as one of spaces.
const BLANK = /^[\s\p{Cf}]*$/u;
const MESSAGE_SEPARATOR = "\u0001";

function messageKey(message: ChatMessage): string {
  return [message.role, message.name ?? "", message.content].join("\u0000");
}

/** The first user message and the first assistant reply after it. */
function firstExchange(messages: ChatMessage[]): { question: string; answer?: string } | undefined {
  const at = messages.findIndex((m) => m.role === "user");
  const question = messages[at]?.content;
  if (!question) return undefined;
  const reply = messages.slice(at + 1).find((m) => m.role === "assistant");
  return { question, answer: reply?.content };
}

/** Nearest-rank: every percentile is one of the counts, never an interpolation between two. */
function percentiles(counts: Uint32Array): ValidationStats["tokens"] {
  if (counts.length === 0) return { min: 0, p50: 0, p95: 0, max: 0 };
  const sorted = Uint32Array.from(counts).sort();
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
  return { min: sorted[0] as number, p50: rank(50), p95: rank(95), max: sorted[sorted.length - 1] as number };
}

function tokens(count: number): string {
  return `${count.toLocaleString("en-US")} tokens`;
}

function severityRank(severity: ValidationIssue["severity"]): number {
  return severity === "error" ? 0 : 1;
}

function datasetIssue(code: string, severity: ValidationIssue["severity"], message: string): ValidationIssue {
  return { code, severity, message, pairIds: [], lines: [] };
}
