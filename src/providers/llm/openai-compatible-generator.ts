import OpenAI from "openai";
import { parseGeneratedPairs } from "../../core/generation/parse-generated.js";
import { buildGenerationPrompt } from "../../core/generation/prompts.js";
import {
  ChunkGenerationError,
  type GenerationRequest,
  type GenerationResult,
  GenerationStoppedError,
  type PairGenerator,
} from "../../core/generation/types.js";
import { parseResetDuration, RateGate } from "./rate-gate.js";

export interface LlmEndpoint {
  baseURL: string;
  model: string;
  /** Optional: local servers such as Ollama need none. */
  apiKey?: string;
  timeoutMs?: number;
  /** Attempts per call on rate limits, timeouts and server errors before the chunk fails. */
  maxAttempts?: number;
}

export interface GeneratorClock {
  sleep(ms: number): Promise<void>;
  random(): number;
}

const realClock: GeneratorClock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const RESUME_HINT = "then run `fineflow generate` again with the same dataset name to resume";

/**
 * Pair generation through any OpenAI-compatible chat-completions endpoint (OpenAI, Gemini's OpenAI
 * endpoint, Ollama, vLLM …) with the official SDK. Structured output where the endpoint takes it, JSON
 * mode otherwise; whatever comes back is parsed and checked, and a malformed answer is asked for once
 * more. Rate limits are waited out together (see RateGate); errors no retry can fix stop the run.
 */
export class OpenAICompatibleGenerator implements PairGenerator {
  readonly name = "llm" as const;
  private readonly client: OpenAI;
  private readonly gate: RateGate;
  private structuredOutput = true;

  constructor(
    private readonly endpoint: LlmEndpoint,
    private readonly clock: GeneratorClock = realClock,
  ) {
    this.client = new OpenAI({
      baseURL: endpoint.baseURL,
      apiKey: endpoint.apiKey ?? "no-key",
      timeout: endpoint.timeoutMs ?? 120_000,
      maxRetries: 0, // retries are ours: the SDK would also retry insufficient_quota, which never recovers
    });
    this.gate = new RateGate(Date.now, clock.sleep);
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const prompt = buildGenerationPrompt({
      mode: request.mode,
      chunkText: request.chunk.text,
      headingPath: request.chunk.headingPath,
      pairsPerChunk: request.pairsPerChunk,
    });
    const usage = { promptTokens: 0, completionTokens: 0 };
    let reason = "";
    for (let attempt = 0; attempt < 2; attempt++) {
      const completion = await this.complete(prompt.messages, prompt.responseSchema);
      usage.promptTokens += completion.usage?.prompt_tokens ?? 0;
      usage.completionTokens += completion.usage?.completion_tokens ?? 0;
      const message = completion.choices[0]?.message;
      if (message?.refusal) {
        throw new ChunkGenerationError(
          `The model refused: ${message.refusal.slice(0, 200)}`,
          usage,
          this.endpoint.model,
        );
      }
      const parsed = parseGeneratedPairs(message?.content ?? "", request.mode);
      if (parsed.ok) {
        return {
          pairs: parsed.pairs,
          mode: parsed.mode,
          model: this.endpoint.model,
          promptVersion: prompt.promptVersion,
          usage,
        };
      }
      reason = parsed.reason;
    }
    throw new ChunkGenerationError(
      `The model's answer could not be used twice in a row: ${reason}`,
      usage,
      this.endpoint.model,
    );
  }

  private async complete(
    messages: OpenAI.ChatCompletionMessageParam[],
    schema: { name: string; schema: Record<string, unknown>; strict: true },
  ): Promise<OpenAI.ChatCompletion> {
    const maxAttempts = this.endpoint.maxAttempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      await this.gate.wait();
      const structured = this.structuredOutput;
      try {
        const { data, response } = await this.client.chat.completions
          .create({
            model: this.endpoint.model,
            messages,
            response_format: structured
              ? { type: "json_schema", json_schema: schema }
              : { type: "json_object" },
          })
          .withResponse();
        this.respectRemaining(response.headers);
        return data;
      } catch (error) {
        if (structured && isUnsupportedResponseFormat(error)) {
          this.structuredOutput = false; // this endpoint lacks json_schema: JSON mode from now on
          continue;
        }
        const stop = stoppingError(error, this.endpoint.model);
        if (stop) throw stop;
        if (attempt >= maxAttempts && isUnreachable(error)) {
          // Nothing answers at all, as when Ollama is not started: every chunk would fail the same way, one
          // after another, for minutes, and the dataset end "ready" and empty.
          throw new GenerationStoppedError(
            `Cannot reach the LLM endpoint at ${this.endpoint.baseURL} (${rootCause(error)}; ${attempt} tries). Start it, or set another with \`fineflow llm set\`, ${RESUME_HINT}.`,
          );
        }
        if (!isTransient(error) || attempt >= maxAttempts) {
          throw new ChunkGenerationError(`The LLM endpoint failed ${attempt} time(s): ${describe(error)}`);
        }
        // A rate limit holds back every caller; any other failure only this one.
        if (error instanceof OpenAI.RateLimitError) this.gate.pauseFor(this.backoff(error, attempt));
        else await this.clock.sleep(this.backoff(error, attempt));
      }
    }
  }

  /**
   * A response that leaves no requests pauses everyone for about one request's share of the window: the
   * reset header is the time until the whole limit is back, but a slot frees long before that.
   */
  private respectRemaining(headers: Headers) {
    if (headers.get("x-ratelimit-remaining-requests") !== "0") return;
    const reset = parseResetDuration(headers.get("x-ratelimit-reset-requests"));
    const limit = Number(headers.get("x-ratelimit-limit-requests"));
    if (reset && limit > 0) this.gate.pauseFor(reset / limit);
  }

  /** The server's retry-after when it gives one, else exponential backoff with full jitter. */
  private backoff(error: unknown, attempt: number): number {
    if (error instanceof OpenAI.APIError && error.headers) {
      const ms = Number(error.headers.get("retry-after-ms"));
      if (ms > 0) return ms;
      const seconds = Number(error.headers.get("retry-after"));
      if (seconds > 0) return seconds * 1000;
    }
    return this.clock.random() * Math.min(30_000, 500 * 2 ** attempt);
  }
}

function isUnsupportedResponseFormat(error: unknown): boolean {
  return (
    error instanceof OpenAI.BadRequestError &&
    /response_format|json_schema|structured/i.test(`${error.param ?? ""} ${error.message}`)
  );
}

function isTransient(error: unknown): boolean {
  return (
    error instanceof OpenAI.RateLimitError ||
    error instanceof OpenAI.InternalServerError ||
    error instanceof OpenAI.APIConnectionError || // timeouts included
    (error instanceof OpenAI.APIError && (error.status === 408 || error.status === 409))
  );
}

/** No connection at all: refused, or no such host. Not a timeout, which a slow model under load gives. */
function isUnreachable(error: unknown): boolean {
  return error instanceof OpenAI.APIConnectionError && !(error instanceof OpenAI.APIConnectionTimeoutError);
}

/** What failed under the SDK's "Connection error." and fetch's "fetch failed": "connect ECONNREFUSED …". */
function rootCause(error: unknown): string {
  let cause = error;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return describe(cause);
}

/** Errors that no retry fixes: the run stops with what to do, and resumes where it stopped. */
function stoppingError(error: unknown, model: string): GenerationStoppedError | undefined {
  if (error instanceof OpenAI.RateLimitError && error.code === "insufficient_quota") {
    return new GenerationStoppedError(
      `The LLM endpoint says this account has run out of quota (insufficient_quota). Add credit or switch endpoint, ${RESUME_HINT}.`,
    );
  }
  if (error instanceof OpenAI.AuthenticationError || error instanceof OpenAI.PermissionDeniedError) {
    return new GenerationStoppedError(
      `The LLM endpoint refused the API key (HTTP ${error.status}). Set a valid key (\`fineflow keys set llm\` for your own endpoint), ${RESUME_HINT}.`,
    );
  }
  if (error instanceof OpenAI.NotFoundError) {
    return new GenerationStoppedError(
      `The LLM endpoint does not know the model "${model}" (HTTP 404). Check the endpoint's base URL and model (\`fineflow llm show\`), ${RESUME_HINT}.`,
    );
  }
  return undefined;
}

/** An error as a short line, without anything from the request (which carries the key). */
function describe(error: unknown): string {
  if (error instanceof OpenAI.APIError) return `HTTP ${error.status ?? "?"} ${error.message}`.slice(0, 300);
  return (error as Error).message?.slice(0, 300) ?? String(error);
}
