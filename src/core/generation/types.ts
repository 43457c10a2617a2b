import type { GenerationMode } from "../statuses.js";

/**
 * The shapes dataset generation works with, whatever produces the pairs (an LLM endpoint or the offline
 * extractive generator).
 */

/** What a generated pair is; `auto` is a request for the generator to choose one of these per chunk. */
export type PairMode = Exclude<GenerationMode, "auto">;

export interface PairMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * One training example. Messages alternate user/assistant, starting with user and ending with assistant:
 * one exchange for `qa` and `instruction`, 2–4 for `conversation`. No system message: the dataset's
 * system prompt is applied at export.
 */
export interface GeneratedPair {
  mode: PairMode;
  messages: PairMessage[];
}

/** The chunk a pair is generated from: its text is untrusted data, never instructions. */
export interface SourceChunk {
  id: string;
  documentId: string;
  text: string;
  headingPath: string[];
  /**
   * The chunk before it in its document, which ends with the text this one opens with (the overlap) and
   * may hold the start of its first section: what was asked of it need not be asked again.
   */
  previous?: { text: string; headingPath: string[] };
}

export interface GenerationRequest {
  chunk: SourceChunk;
  mode: GenerationMode;
  /** How many pairs to aim for (1–10). */
  pairsPerChunk: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface GenerationResult {
  pairs: GeneratedPair[];
  /** The mode the generator used (its choice, for `auto`). */
  mode: PairMode;
  model: string;
  promptVersion: string;
  usage?: TokenUsage;
}

/** The port both generators implement. */
export interface PairGenerator {
  readonly name: "llm" | "extractive";
  generate(request: GenerationRequest): Promise<GenerationResult>;
}

/** The endpoint cannot go on (bad key, no quota, no such model): the whole run stops with this message. */
export class GenerationStoppedError extends Error {
  override readonly name = "GenerationStoppedError";
}

/** This chunk could not be turned into pairs (malformed answers, a refusal …); the run goes on. */
export class ChunkGenerationError extends Error {
  override readonly name = "ChunkGenerationError";
  constructor(
    message: string,
    /** Tokens spent on the attempts that failed: they are billed all the same. */
    readonly usage?: TokenUsage,
    /** The model that billed them. */
    readonly model?: string,
  ) {
    super(message);
  }
}
