import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { countTokens, decode, encode } from "gpt-tokenizer/encoding/o200k_base";
import { seededRandom } from "../../src/core/random.js";

/**
 * A local double of OpenAI's `POST /v1/chat/completions`, faithful to
 * /work/shared/reference/openai/openapi.yaml (CreateChatCompletionRequest/Response, Error) and to the
 * headers OpenAI sends (x-ratelimit-*, retry-after, x-request-id), so the real `openai` SDK and the code
 * built on it meet the same shapes, status codes and errors as in production.
 */

export interface ChatContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatMessage {
  role: string;
  content?: string | ChatContentPart[] | null;
  name?: string;
  [key: string]: unknown;
}

export interface ChatResponseFormat {
  type: string;
  json_schema?: {
    name: string;
    schema?: Record<string, unknown>;
    strict?: boolean | null;
    description?: string;
  };
}

/** The request body as received (validated against CreateChatCompletionRequest). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  response_format?: ChatResponseFormat;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
  [key: string]: unknown;
}

export interface FakeApiError {
  message: string;
  type: string;
  code?: string | null;
  param?: string | null;
}

export type FakeAnswer =
  | { content: string; finishReason?: "stop" | "length" }
  | { refusal: string }
  | { status: number; error: FakeApiError; headers?: Record<string, string> }
  | { hang: true }
  | { malformedBody: true };

export interface FakeChatOptions {
  /** Added before every answer, errors included. */
  latencyMs?: number;
  /** Requests per window; default 30 000 (a tier-5 figure), so the x-ratelimit-* headers are always real. */
  rpm?: number;
  /** Tokens per window (prompt + max_tokens, or prompt + completion when no max is given); default 150 M. */
  tpm?: number;
  /** Length of the rolling rate-limit window; 60 000 like OpenAI, smaller to keep tests fast. */
  windowMs?: number;
  /** Fraction of admitted requests answered 500, drawn from a PRNG seeded by `seed`. */
  failureRate?: number;
  seed?: number;
  /** When set, any other bearer key gets 401 invalid_api_key. */
  apiKey?: string;
  /** `requestIndex` is the request's position in `requests` (retries are requests too). */
  respond?: (request: ChatRequest, ctx: { requestIndex: number }) => FakeAnswer;
  /** When false, `response_format: json_schema` gets a 400 like endpoints without structured outputs. */
  supportsJsonSchema?: boolean;
}

export interface FakeChatStats {
  /** 200 answers (refusals and malformed bodies included). */
  ok: number;
  /** 429s from the fake's own rpm/tpm limiter. */
  rateLimited: number;
  /** Every other error answer: 400, 401, 404, injected 500s and errors returned by `respond`. */
  failed: number;
}

export interface FakeChatServer {
  url: string;
  /** Every well-formed chat request received, in arrival order, including the rate-limited ones. */
  requests: ChatRequest[];
  stats: FakeChatStats;
  setOptions(patch: Partial<FakeChatOptions>): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** Set by the fake's own limiter, to tell its 429s from 429s that `respond` returns. */
  rateLimited?: boolean;
}

const DEFAULT_RPM = 30_000;
const DEFAULT_TPM = 150_000_000;
const DEFAULT_WINDOW_MS = 60_000;
const ROLES = ["developer", "system", "user", "assistant", "tool", "function"];
const RESPONSE_FORMATS = ["text", "json_object", "json_schema"];
/** Top-level fields of CreateChatCompletionRequest (with CreateModelResponseProperties) in the reference. */
const KNOWN_FIELDS = new Set([
  "messages",
  "model",
  "service_tier",
  "modalities",
  "verbosity",
  "reasoning_effort",
  "max_completion_tokens",
  "frequency_penalty",
  "presence_penalty",
  "web_search_options",
  "top_logprobs",
  "response_format",
  "audio",
  "store",
  "moderation",
  "stream",
  "stop",
  "logit_bias",
  "logprobs",
  "max_tokens",
  "n",
  "prediction",
  "seed",
  "stream_options",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "function_call",
  "functions",
  "metadata",
  "temperature",
  "top_p",
  "user",
  "safety_identifier",
  "prompt_cache_key",
  "prompt_cache_retention",
  "prompt_cache_options",
]);

export async function startFakeChatServer(options: FakeChatOptions = {}): Promise<FakeChatServer> {
  let current: FakeChatOptions = { ...options };
  let random = seededRandom(options.seed ?? 1);
  const limiter = new RollingWindowLimiter();
  const requests: ChatRequest[] = [];
  const stats: FakeChatStats = { ok: 0, rateLimited: 0, failed: 0 };
  const pendingTimers = new Set<NodeJS.Timeout>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const outcome = answerRequest(req, body);
    if (outcome === "hang") return;
    if (outcome.status === 200) stats.ok++;
    else if (outcome.rateLimited) stats.rateLimited++;
    else stats.failed++;
    await delay(current.latencyMs ?? 0, pendingTimers);
    if (res.destroyed) return;
    res.writeHead(outcome.status, {
      "content-type": "application/json",
      "x-request-id": `req_${randomBytes(16).toString("hex")}`,
      "openai-version": "2020-10-01",
      "openai-processing-ms": String(current.latencyMs ?? 0),
      ...outcome.headers,
    });
    res.end(outcome.body);
  };

  const answerRequest = (req: IncomingMessage, rawBody: string): Reply | "hang" => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      return errorReply(404, {
        message: `Invalid URL (${req.method} ${path})`,
        type: "invalid_request_error",
      });
    }
    const authError = checkApiKey(req.headers.authorization, current.apiKey);
    if (authError) return authError;
    const validated = parseAndValidate(rawBody, current.supportsJsonSchema ?? true);
    if ("reply" in validated) return validated.reply;
    const parsed = validated.request;
    const requestIndex = requests.push(parsed) - 1;
    const promptTokens = countPromptTokens(parsed.messages);
    const maxTokens = parsed.max_completion_tokens ?? parsed.max_tokens ?? null;
    const limits = {
      rpm: current.rpm ?? DEFAULT_RPM,
      tpm: current.tpm ?? DEFAULT_TPM,
      windowMs: current.windowMs ?? DEFAULT_WINDOW_MS,
    };
    const admission = limiter.admit(Date.now(), promptTokens + (maxTokens ?? 0) * (parsed.n ?? 1), limits);
    if (admission.kind !== "admitted") return rateLimitReply(parsed.model, admission);
    if (random() < (current.failureRate ?? 0)) {
      return errorReply(500, SERVER_ERROR, admission.headers);
    }
    let answer: FakeAnswer;
    try {
      answer = (current.respond ?? defaultRespond)(parsed, { requestIndex });
    } catch (error) {
      const message = `The fake's respond() threw: ${error instanceof Error ? error.message : String(error)}`;
      return errorReply(500, { message, type: "server_error" }, admission.headers);
    }
    if ("hang" in answer) return "hang";
    if ("status" in answer) {
      return errorReply(answer.status, answer.error, { ...admission.headers, ...answer.headers });
    }
    const completion = buildCompletion(
      parsed,
      "malformedBody" in answer ? defaultRespond(parsed) : answer,
      promptTokens,
    );
    // Without a max, what the answer really used is what counts against the token budget, as at OpenAI.
    if (maxTokens === null) admission.entry.tokens = completion.usage.total_tokens;
    const body = JSON.stringify(completion);
    // Cut short, as when a proxy or a dropped connection delivers part of an answer.
    const sent = "malformedBody" in answer ? body.slice(0, Math.floor(body.length / 2)) : body;
    return { status: 200, body: sent, headers: admission.headers };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { ...SERVER_ERROR, message: String(error), param: null, code: null } }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stats,
    setOptions(patch) {
      current = { ...current, ...patch };
      if (patch.seed !== undefined) random = seededRandom(patch.seed);
    },
    async close() {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      // Hung requests keep their sockets open; without this, close() would wait for the client to give up.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A deterministic `{"pairs":[{question, answer}]}` built from the last user message's sentences. */
export function defaultRespond(request: ChatRequest): { content: string } {
  const text = lastUserText(request.messages);
  const sentences = text
    .split(/(?<=[.!?])\s+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0)
    .slice(0, 3);
  const pairs = sentences.map((sentence) => ({
    question: `What does the text say about "${sentence.split(/\s+/).slice(0, 6).join(" ")}"?`,
    answer: sentence,
  }));
  if (pairs.length === 0) pairs.push({ question: "What is this text about?", answer: "It is empty." });
  return { content: JSON.stringify({ pairs }) };
}

/** The text of the last user message, text parts joined; "" when there is none. */
export function lastUserText(messages: ChatMessage[]): string {
  const last = messages.findLast((message) => message.role === "user");
  return last ? messageText(last) : "";
}

function messageText(message: ChatMessage): string {
  if (typeof message.content === "string") return message.content;
  if (!Array.isArray(message.content)) return "";
  return message.content.map((part) => (typeof part.text === "string" ? part.text : "")).join("\n");
}

const SERVER_ERROR: FakeApiError = {
  message:
    "The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if the error persists.",
  type: "server_error",
};

function errorReply(status: number, error: FakeApiError, headers: Record<string, string> = {}): Reply {
  const body = {
    error: { message: error.message, type: error.type, param: error.param ?? null, code: error.code ?? null },
  };
  return { status, body: JSON.stringify(body), headers };
}

function invalidRequest(message: string, param: string | null, code: string | null = null): Reply {
  return errorReply(400, { message, type: "invalid_request_error", param, code });
}

function checkApiKey(authorization: string | undefined, expected: string | undefined): Reply | null {
  if (expected === undefined) return null;
  const key = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  if (!key) {
    return errorReply(401, {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      type: "invalid_request_error",
    });
  }
  if (key === expected) return null;
  const masked = key.length > 8 ? `${key.slice(0, 3)}***${key.slice(-4)}` : "***";
  return errorReply(401, {
    message: `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    type: "invalid_request_error",
    code: "invalid_api_key",
  });
}

// ---------------------------------------------------------------------------------------------------
// Request validation: what CreateChatCompletionRequest in the reference requires, with OpenAI's wording.

type Json = unknown;

function parseAndValidate(
  rawBody: string,
  supportsJsonSchema: boolean,
): { request: ChatRequest } | { reply: Reply } {
  let body: Json;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return {
      reply: invalidRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        null,
      ),
    };
  }
  const reply = validateBody(body, supportsJsonSchema);
  return reply ? { reply } : { request: body as ChatRequest };
}

function validateBody(body: Json, supportsJsonSchema: boolean): Reply | null {
  if (!isObject(body)) return invalidRequest("The request body must be a JSON object.", null, "invalid_type");
  const unknownField = Object.keys(body).find((key) => !KNOWN_FIELDS.has(key));
  if (unknownField)
    return invalidRequest(`Unrecognized request argument supplied: ${unknownField}`, unknownField);
  if (body.stream === true) {
    // A deliberate gap: FineFlow asks for whole completions, so a stream request here is a bug to surface.
    return invalidRequest("This fake does not stream; ask for a whole completion.", "stream");
  }
  return (
    validateModel(body.model) ??
    validateMessages(body.messages) ??
    validateNumbers(body) ??
    validateResponseFormat(body.response_format, supportsJsonSchema)
  );
}

function validateModel(model: Json): Reply | null {
  if (model === undefined || model === null || model === "") {
    return invalidRequest("you must provide a model parameter", "model", "missing_required_parameter");
  }
  return typeof model === "string" ? null : invalidType("model", "a string", model);
}

function validateMessages(messages: Json): Reply | null {
  if (messages === undefined) {
    return invalidRequest(
      "Missing required parameter: 'messages'.",
      "messages",
      "missing_required_parameter",
    );
  }
  if (!Array.isArray(messages)) return invalidType("messages", "an array", messages);
  if (messages.length === 0) {
    return invalidRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      "messages",
      "empty_array",
    );
  }
  for (const [index, message] of messages.entries()) {
    const error = validateMessage(message, `messages[${index}]`);
    if (error) return error;
  }
  return null;
}

function validateMessage(message: Json, at: string): Reply | null {
  if (!isObject(message)) return invalidType(at, "an object", message);
  if (message.role === undefined) {
    return invalidRequest(
      `Missing required parameter: '${at}.role'.`,
      `${at}.role`,
      "missing_required_parameter",
    );
  }
  if (typeof message.role !== "string" || !ROLES.includes(message.role)) {
    return invalidRequest(
      `Invalid value: '${String(message.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
      `${at}.role`,
      "invalid_value",
    );
  }
  const contentOptional =
    (message.role === "assistant" &&
      (message.tool_calls !== undefined || message.function_call !== undefined)) ||
    (message.role === "assistant" && "content" in message && message.content === null);
  if (message.content === undefined && !contentOptional) {
    return invalidRequest(
      `Missing required parameter: '${at}.content'.`,
      `${at}.content`,
      "missing_required_parameter",
    );
  }
  if (message.role === "tool" && typeof message.tool_call_id !== "string") {
    return invalidRequest(
      `Missing required parameter: '${at}.tool_call_id'.`,
      `${at}.tool_call_id`,
      "missing_required_parameter",
    );
  }
  return validateContent(message.content, message.role, `${at}.content`);
}

function validateContent(content: Json, role: string, at: string): Reply | null {
  if (content === undefined || typeof content === "string") return null;
  if (content === null && (role === "assistant" || role === "function")) return null;
  if (!Array.isArray(content) || content.length === 0 || !content.every(isContentPart)) {
    return invalidRequest(
      `Invalid type for '${at}': expected one of a string or array of objects, but got ${jsonTypeName(content)} instead.`,
      at,
      "invalid_type",
    );
  }
  return null;
}

function isContentPart(part: Json): boolean {
  if (!isObject(part) || typeof part.type !== "string") return false;
  return part.type !== "text" || typeof part.text === "string";
}

const NUMBER_RANGES: Array<[field: string, min: number, max: number, integer: boolean]> = [
  ["temperature", 0, 2, false],
  ["top_p", 0, 1, false],
  ["frequency_penalty", -2, 2, false],
  ["presence_penalty", -2, 2, false],
  ["n", 1, 128, true],
  ["max_tokens", 1, Number.MAX_SAFE_INTEGER, true],
  ["max_completion_tokens", 1, Number.MAX_SAFE_INTEGER, true],
  ["top_logprobs", 0, 20, true],
];

function validateNumbers(body: Record<string, Json>): Reply | null {
  for (const [field, min, max, integer] of NUMBER_RANGES) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== "number" || (integer && !Number.isInteger(value))) {
      return invalidType(field, integer ? "an integer" : "a number", value);
    }
    if (value < min) {
      return invalidRequest(
        `Invalid '${field}': ${integer ? "integer" : "decimal"} below minimum value. Expected a value >= ${min}, but got ${value} instead.`,
        field,
        `${integer ? "integer" : "decimal"}_below_min_value`,
      );
    }
    if (value > max) {
      return invalidRequest(
        `Invalid '${field}': ${integer ? "integer" : "decimal"} above maximum value. Expected a value <= ${max}, but got ${value} instead.`,
        field,
        `${integer ? "integer" : "decimal"}_above_max_value`,
      );
    }
  }
  return null;
}

function validateResponseFormat(format: Json, supportsJsonSchema: boolean): Reply | null {
  if (format === undefined || format === null) return null;
  if (!isObject(format)) return invalidType("response_format", "an object", format);
  if (typeof format.type !== "string" || !RESPONSE_FORMATS.includes(format.type)) {
    return invalidRequest(
      `Invalid value: '${String(format.type)}'. Supported values are: 'text', 'json_object', and 'json_schema'.`,
      "response_format.type",
      "invalid_value",
    );
  }
  if (format.type !== "json_schema") return null;
  const schema = format.json_schema;
  if (!isObject(schema)) {
    return invalidRequest(
      "Missing required parameter: 'response_format.json_schema'.",
      "response_format.json_schema",
      "missing_required_parameter",
    );
  }
  if (typeof schema.name !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(schema.name)) {
    return invalidRequest(
      "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
      "response_format.json_schema.name",
      "invalid_value",
    );
  }
  if (!supportsJsonSchema) {
    return invalidRequest(
      "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
      "response_format",
    );
  }
  return null;
}

function invalidType(param: string, expected: string, value: Json): Reply {
  return invalidRequest(
    `Invalid type for '${param}': expected ${expected}, but got ${jsonTypeName(value)} instead.`,
    param,
    "invalid_type",
  );
}

function jsonTypeName(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a decimal";
  if (typeof value === "string") return "a string";
  if (typeof value === "boolean") return "a boolean";
  return "an object";
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------
// Answers

function countPromptTokens(messages: ChatMessage[]): number {
  // OpenAI's published accounting: ~3 tokens of framing per message, 3 more to prime the reply.
  return messages.reduce((sum, message) => sum + 3 + countTokens(messageText(message)), 3);
}

function buildCompletion(
  request: ChatRequest,
  answer: { content: string; finishReason?: "stop" | "length" } | { refusal: string },
  promptTokens: number,
) {
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? null;
  let content: string | null = null;
  let refusal: string | null = null;
  let finishReason: "stop" | "length" = "stop";
  if ("refusal" in answer) {
    refusal = answer.refusal;
  } else {
    const tokens = encode(answer.content);
    // The real endpoint cuts the answer at the token limit, which breaks JSON; callers must cope.
    const truncated = maxTokens !== null && tokens.length > maxTokens;
    content = truncated ? decode(tokens.slice(0, maxTokens)) : answer.content;
    finishReason = truncated ? "length" : (answer.finishReason ?? "stop");
  }
  const choiceCount = request.n ?? 1;
  const completionTokens = countTokens(content ?? refusal ?? "") * choiceCount;
  return {
    id: `chatcmpl-${randomAlphanumeric(29)}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: Array.from({ length: choiceCount }, (_, index) => ({
      index,
      message: { role: "assistant", content, refusal, annotations: [] },
      logprobs: null,
      finish_reason: finishReason,
    })),
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: "default",
    system_fingerprint: "fp_fineflow0",
  };
}

// ---------------------------------------------------------------------------------------------------
// Rate limits

interface WindowEntry {
  at: number;
  tokens: number;
}

interface Limits {
  rpm: number;
  tpm: number;
  windowMs: number;
}

type Admission =
  | { kind: "admitted"; entry: WindowEntry; headers: Record<string, string> }
  | {
      kind: "requests" | "tokens" | "too-large";
      limit: number;
      used: number;
      requested: number;
      retryAfterMs: number;
      headers: Record<string, string>;
    };

/**
 * A rolling window over admitted requests. Rejected requests are not counted, unlike OpenAI, so that a
 * client retrying after `retry-after` is admitted deterministically.
 */
class RollingWindowLimiter {
  private entries: WindowEntry[] = [];

  admit(now: number, requestedTokens: number, limits: Limits): Admission {
    this.entries = this.entries.filter((entry) => entry.at > now - limits.windowMs);
    const usedTokens = this.entries.reduce((sum, entry) => sum + entry.tokens, 0);
    const headers = this.headers(now, limits);
    if (this.entries.length + 1 > limits.rpm) {
      // The request that frees a slot is the one `rpm` places from the newest.
      const freeing = this.entries[this.entries.length - limits.rpm];
      const retryAfterMs = freeing ? freeing.at + limits.windowMs - now : limits.windowMs;
      return {
        kind: "requests",
        limit: limits.rpm,
        used: this.entries.length,
        requested: 1,
        retryAfterMs,
        headers,
      };
    }
    const tokens = { limit: limits.tpm, used: usedTokens, requested: requestedTokens, headers };
    if (requestedTokens > limits.tpm) return { kind: "too-large", ...tokens, retryAfterMs: 0 };
    if (usedTokens + requestedTokens > limits.tpm) {
      const retryAfterMs = this.tokensFreeAfter(
        now,
        usedTokens + requestedTokens - limits.tpm,
        limits.windowMs,
      );
      return { kind: "tokens", ...tokens, retryAfterMs };
    }
    const entry = { at: now, tokens: requestedTokens };
    this.entries.push(entry);
    return { kind: "admitted", entry, headers: this.headers(now, limits) };
  }

  private tokensFreeAfter(now: number, excess: number, windowMs: number): number {
    let freed = 0;
    for (const entry of this.entries) {
      freed += entry.tokens;
      if (freed >= excess) return entry.at + windowMs - now;
    }
    return windowMs;
  }

  /** OpenAI's reset headers give the time until the limit is back to its initial state. */
  private headers(now: number, limits: Limits): Record<string, string> {
    const usedTokens = this.entries.reduce((sum, entry) => sum + entry.tokens, 0);
    const lastTokenEntry = this.entries.findLast((entry) => entry.tokens > 0);
    const newest = this.entries.at(-1);
    return {
      "x-ratelimit-limit-requests": String(limits.rpm),
      "x-ratelimit-remaining-requests": String(Math.max(0, limits.rpm - this.entries.length)),
      "x-ratelimit-reset-requests": formatDuration(newest ? newest.at + limits.windowMs - now : 0),
      "x-ratelimit-limit-tokens": String(limits.tpm),
      "x-ratelimit-remaining-tokens": String(Math.max(0, limits.tpm - usedTokens)),
      "x-ratelimit-reset-tokens": formatDuration(
        lastTokenEntry ? lastTokenEntry.at + limits.windowMs - now : 0,
      ),
    };
  }
}

function rateLimitReply(model: string, admission: Exclude<Admission, { kind: "admitted" }>): Reply {
  const org = "in organization org-fineflowfake";
  const visit = "Visit https://platform.openai.com/account/rate-limits to learn more.";
  if (admission.kind === "too-large") {
    const message = `Request too large for ${model} ${org} on tokens per min (TPM): Limit ${admission.limit}, Requested ${admission.requested}. The input or output tokens must be reduced in order to run successfully. ${visit}`;
    const reply = errorReply(
      429,
      { message, type: "tokens", code: "rate_limit_exceeded" },
      admission.headers,
    );
    return { ...reply, rateLimited: true };
  }
  const retryAfterMs = Math.max(1, Math.ceil(admission.retryAfterMs));
  const per = admission.kind === "requests" ? "requests per min (RPM)" : "tokens per min (TPM)";
  const message = `Rate limit reached for ${model} ${org} on ${per}: Limit ${admission.limit}, Used ${admission.used}, Requested ${admission.requested}. Please try again in ${formatDuration(retryAfterMs)}. ${visit}`;
  const reply = errorReply(
    429,
    { message, type: admission.kind, code: "rate_limit_exceeded" },
    {
      ...admission.headers,
      "retry-after": String(Math.ceil(retryAfterMs / 1000)),
      "retry-after-ms": String(retryAfterMs),
    },
  );
  return { ...reply, rateLimited: true };
}

/** OpenAI's duration style: "12ms", "1.2s", "6m0s", "1h2m3.5s". */
export function formatDuration(ms: number): string {
  const rounded = Math.max(0, Math.round(ms));
  if (rounded < 1000) return `${rounded}ms`;
  const hours = Math.floor(rounded / 3_600_000);
  const minutes = Math.floor((rounded % 3_600_000) / 60_000);
  const seconds = `${Number(((rounded % 60_000) / 1000).toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}

// ---------------------------------------------------------------------------------------------------
// Plumbing

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function delay(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });
}

function randomAlphanumeric(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join("");
}
