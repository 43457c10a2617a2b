/**
 * Turns what a model returned into checked pairs. Models do not always honour a JSON schema, so this
 * accepts what they really send (JSON in a code fence, JSON between prose, a bare array, the classic
 * question/answer or instruction/response objects, trailing commas, raw line breaks inside strings) and
 * then validates one canonical shape with zod. Output is sanitised before parsing and every message
 * again after, since escaped characters (\u200b in a JSON string) only appear once the JSON is read.
 */
import { z } from "zod";
import type { GenerationMode } from "../statuses.js";
import type { GeneratedPair, PairMessage, PairMode } from "./types.js";

/** The most pairs one reply may hold; prompts ask for at most this many. */
export const MAX_PAIRS_PER_RESPONSE = 10;
export const PAIR_MODES: readonly PairMode[] = ["qa", "instruction", "conversation"];

export type ParseOutcome =
  | { ok: true; mode: PairMode; pairs: GeneratedPair[] }
  | { ok: false; reason: string };

// ---------------------------------------------------------------------------------------------------------
// Sanitisation

const ZERO_WIDTH_JOINER = 0x200d;
const ZERO_WIDTH_NON_JOINER = 0x200c;

function isControl(cp: number): boolean {
  return (cp < 0x20 && cp !== 0x0a && cp !== 0x09) || (cp >= 0x7f && cp <= 0x9f);
}

const FORMAT = /\p{Cf}/u;
const EMOJI_PART = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\ufe0f/u;

function isNonLatinLetter(char: string | undefined): boolean {
  return char !== undefined && (char.codePointAt(0) ?? 0) >= 0x0370 && /[\p{L}\p{M}]/u.test(char);
}

/** Joiners are spelling in Persian and Indic scripts and glue emoji such as 👩‍💻: those stay. */
function isLegitimateJoiner(char: string, previous: string | undefined, next: string | undefined): boolean {
  const cp = char.codePointAt(0);
  if (cp !== ZERO_WIDTH_JOINER && cp !== ZERO_WIDTH_NON_JOINER) return false;
  if (cp === ZERO_WIDTH_JOINER && previous && next && EMOJI_PART.test(previous) && EMOJI_PART.test(next)) {
    return true;
  }
  return isNonLatinLetter(previous) && isNonLatinLetter(next);
}

/**
 * Removes control characters (keeping line feeds and tabs; CR and Unicode line separators become line
 * feeds) and invisible format characters: zero-width spaces, bidi overrides, tag characters, soft hyphens.
 * They can hide or reorder text a reviewer would otherwise see, and a model trained on them learns noise.
 */
function stripInvisible(text: string): string {
  const chars = [...text.replace(/\r\n?|[\u2028\u2029]/g, "\n")];
  let out = "";
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string;
    const cp = char.codePointAt(0) ?? 0;
    if (isControl(cp)) continue;
    if (FORMAT.test(char) && !isLegitimateJoiner(char, chars[i - 1], chars[i + 1])) continue;
    out += char;
  }
  return out;
}

/** Element names, so that `List<String>`, `a <b> c` in maths or a `<T>` generic are not taken for HTML. */
const HTML_ELEMENTS =
  "a|abbr|address|area|article|aside|audio|b|base|bdi|bdo|big|blockquote|body|br|button|canvas|caption|center|cite|code|col|colgroup|data|dd|del|details|dfn|dialog|div|dl|dt|em|embed|fieldset|figcaption|figure|font|footer|form|frame|frameset|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|kbd|label|legend|li|link|main|map|mark|meta|meter|nav|noscript|object|ol|optgroup|option|output|p|param|picture|pre|progress|q|s|samp|section|select|slot|small|source|span|strike|strong|sub|summary|sup|svg|table|tbody|td|template|textarea|tfoot|th|thead|time|title|tr|track|tt|u|ul|var|video|wbr";
// Bounded attribute length keeps matching linear however many unclosed "<a" the text holds.
const HTML_TAG = new RegExp(`</?(?:${HTML_ELEMENTS})(?=[\\s/>])[^<>]{0,1000}>`, "gi");
const BLOCK_TAG =
  /<\/?(?:address|article|aside|blockquote|br|dd|details|div|dl|dt|figcaption|figure|footer|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul)(?=[\s/>])[^<>]{0,1000}>/gi;
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
const SCRIPT_OR_STYLE = /<(script|style)\b[^<>]{0,1000}>[\s\S]*?(?:<\/\1\s*>|$)/gi;
// A script or style element's body is code, not text to keep; the bare tag names are not in HTML_ELEMENTS.
const STRAY_SCRIPT_TAG = /<\/?(?:script|style)\b[^<>]{0,1000}>/gi;

function stripHtml(prose: string): string {
  return prose
    .replace(HTML_COMMENT, "")
    .replace(SCRIPT_OR_STYLE, "")
    .replace(STRAY_SCRIPT_TAG, "")
    .replace(BLOCK_TAG, "\n")
    .replace(HTML_TAG, "");
}

/**
 * Markdown code: fenced blocks and inline spans. HTML written there is the subject of the answer (“wrap it
 * in a `<section>` element”), shown as text by any renderer, so it is kept.
 */
const MARKDOWN_CODE =
  /^[ \t]*(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^[ \t]*\1[ \t]*$|(?![\s\S]))|(`+)[^`\n]+?\2(?!`)/gm;

/**
 * Model text made safe to store and train on: invisible and control characters removed, HTML tags
 * outside Markdown code removed with their text kept (block tags become line breaks; script and style
 * bodies and comments go entirely), runs of blank lines collapsed, and the ends trimmed.
 */
export function sanitizeModelText(text: string): string {
  const visible = stripInvisible(text);
  let out = "";
  let last = 0;
  for (const match of visible.matchAll(MARKDOWN_CODE)) {
    out += stripHtml(visible.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  out += stripHtml(visible.slice(last));
  return out
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

// ---------------------------------------------------------------------------------------------------------
// Finding the JSON

const MAX_JSON_STARTS = 20;

/** Every string that might be the JSON answer, most likely first. */
function* jsonCandidates(text: string): Generator<string> {
  yield text.trim();
  for (const match of text.matchAll(/```[\w-]*[^\S\n]*\n?([\s\S]*?)```/g)) yield (match[1] ?? "").trim();
  let starts = 0;
  for (let i = 0; i < text.length && starts < MAX_JSON_STARTS; i++) {
    const char = text[i];
    if (char !== "{" && char !== "[") continue;
    starts++;
    const end = balancedEnd(text, i);
    if (end !== undefined) yield text.slice(i, end);
  }
}

/** Where the bracket opened at `start` closes, skipping brackets inside JSON strings. */
function balancedEnd(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{" || char === "[") depth++;
    else if (char === "}" || char === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

/** Repairs the two slips models make most: raw line breaks inside strings and trailing commas. */
function repairJson(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (inString) {
      if (char === "\\") {
        out += char + (text[i + 1] ?? "");
        i++;
        continue;
      }
      if (char === '"') inString = false;
      out += char === "\n" ? "\\n" : char === "\t" ? "\\t" : char;
      continue;
    }
    if (char === '"') inString = true;
    if (char === "," && /^\s*[}\]]/.test(text.slice(i + 1, i + 200))) continue;
    out += char;
  }
  return out;
}

function tryParse(candidate: string): unknown {
  for (const text of [candidate, repairJson(candidate)]) {
    try {
      const value: unknown = JSON.parse(text);
      // Some models send their JSON encoded as a JSON string.
      if (typeof value === "string" && /^\s*[{[]/.test(value)) return tryParse(value);
      return value;
    } catch {
      // Try the repaired text, then the next candidate.
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An object, or an array of objects or arrays: what pairs can be made from, unlike "[1]" in prose. */
function looksLikePairs(value: unknown): boolean {
  if (isRecord(value)) return true;
  return Array.isArray(value) && value.every((item) => isRecord(item) || Array.isArray(item));
}

function extractJson(text: string): { found: true; value: unknown } | { found: false } {
  let fallback: { found: true; value: unknown } | undefined;
  for (const candidate of jsonCandidates(text)) {
    if (!candidate) continue;
    const value = tryParse(candidate);
    if (value === undefined) continue;
    if (looksLikePairs(value)) return { found: true, value };
    fallback ??= { found: true, value };
  }
  return fallback ?? { found: false };
}

// ---------------------------------------------------------------------------------------------------------
// Alternative shapes → { mode, pairs: [{ messages }] }

const LIST_KEYS = ["pairs", "examples", "items", "data", "qa_pairs", "conversations", "dialogues", "results"];
const MESSAGE_KEYS = ["messages", "conversation", "conversations", "turns", "dialogue", "dialog"];
const ROLE_ALIASES: Readonly<Record<string, string>> = {
  human: "user",
  gpt: "assistant",
  ai: "assistant",
  bot: "assistant",
  model: "assistant",
};

interface Canonical {
  declaredMode: unknown;
  pairs: unknown;
  /** The mode the pairs' own keys imply (question/answer → qa …), when they all agree. */
  shapeMode?: PairMode;
}

function firstKey(record: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const key of keys) if (record[key] !== undefined) return record[key];
  return undefined;
}

function looksLikeMessage(value: unknown): boolean {
  return isRecord(value) && (typeof value.role === "string" || typeof value.from === "string");
}

function isMessageList(value: unknown): value is unknown[] {
  return Array.isArray(value) && value.length > 0 && value.every(looksLikeMessage);
}

function canonicalMessage(value: unknown): unknown {
  if (!isRecord(value)) return value;
  const role = firstKey(value, ["role", "from", "speaker"]);
  const content = firstKey(value, ["content", "value", "text"]);
  const normalizedRole = typeof role === "string" ? role.trim().toLowerCase() : role;
  return {
    role: typeof normalizedRole === "string" ? (ROLE_ALIASES[normalizedRole] ?? normalizedRole) : role,
    content: typeof content === "number" ? String(content) : content,
  };
}

function exchange(user: unknown, assistant: unknown): unknown[] {
  return [
    { role: "user", content: user },
    { role: "assistant", content: typeof assistant === "number" ? String(assistant) : assistant },
  ];
}

function canonicalPair(item: unknown): { pair: unknown; shapeMode?: PairMode } {
  if (Array.isArray(item)) return { pair: { messages: item.map(canonicalMessage) } };
  if (!isRecord(item)) return { pair: item };
  const messages = firstKey(item, MESSAGE_KEYS);
  if (Array.isArray(messages)) return { pair: { messages: messages.map(canonicalMessage) } };
  if (item.question !== undefined) {
    return { pair: { messages: exchange(item.question, item.answer) }, shapeMode: "qa" };
  }
  if (item.instruction !== undefined) {
    const input = typeof item.input === "string" && item.input.trim() ? `\n\n${item.input}` : "";
    const task = typeof item.instruction === "string" ? item.instruction + input : item.instruction;
    const response = firstKey(item, ["response", "output", "answer", "completion"]);
    return { pair: { messages: exchange(task, response) }, shapeMode: "instruction" };
  }
  if (item.prompt !== undefined) {
    return {
      pair: { messages: exchange(item.prompt, firstKey(item, ["response", "completion", "answer"])) },
    };
  }
  if (item.user !== undefined) return { pair: { messages: exchange(item.user, item.assistant) } };
  return { pair: item };
}

function isPairLike(record: Record<string, unknown>): boolean {
  return firstKey(record, [...MESSAGE_KEYS, "question", "instruction", "prompt"]) !== undefined;
}

function toCanonical(value: unknown): Canonical | string {
  let declaredMode: unknown;
  let items: unknown;
  if (Array.isArray(value)) {
    items = isMessageList(value) ? [value] : value;
  } else if (isRecord(value)) {
    declaredMode = firstKey(value, ["mode", "type", "kind"]);
    const list = firstKey(value, LIST_KEYS);
    if (isMessageList(list)) items = [list];
    else if (Array.isArray(list)) items = list;
    else if (isPairLike(value)) items = [value];
    else return `pairs: expected an array of pairs, found ${list === undefined ? "none" : describe(list)}`;
  } else {
    return `expected a JSON object or array, got ${describe(value)}`;
  }
  const converted = (items as unknown[]).map(canonicalPair);
  const shapes = new Set(converted.map((c) => c.shapeMode));
  const shapeMode = shapes.size === 1 ? [...shapes][0] : undefined;
  return { declaredMode, pairs: converted.map((c) => c.pair), ...(shapeMode ? { shapeMode } : {}) };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`.slice(0, 60);
}

// ---------------------------------------------------------------------------------------------------------
// Mode

type ModeResolution = { mode: PairMode } | { reason: string };

function isPairMode(value: unknown): value is PairMode {
  return PAIR_MODES.includes(value as PairMode);
}

function resolveMode(canonical: Canonical, requested: GenerationMode): ModeResolution {
  const { declaredMode } = canonical;
  if (declaredMode !== undefined) {
    const mode = typeof declaredMode === "string" ? declaredMode.trim().toLowerCase() : declaredMode;
    if (!isPairMode(mode)) {
      const allowed = PAIR_MODES.map((m) => `"${m}"`).join(", ");
      return { reason: `mode: expected one of ${allowed}, got ${JSON.stringify(declaredMode)}` };
    }
    if (requested !== "auto" && mode !== requested) {
      return { reason: `mode: expected "${requested}", got "${mode}"` };
    }
    return { mode };
  }
  if (requested !== "auto") return { mode: requested };
  if (canonical.shapeMode) return { mode: canonical.shapeMode };
  const pairs = Array.isArray(canonical.pairs) ? canonical.pairs : [];
  const multiTurn = pairs.some(
    (pair) => isRecord(pair) && Array.isArray(pair.messages) && pair.messages.length > 2,
  );
  return multiTurn
    ? { mode: "conversation" }
    : { reason: "mode: missing (the model must say which mode it chose)" };
}

// ---------------------------------------------------------------------------------------------------------
// Validation

const TURN_LIMITS: Readonly<Record<PairMode, { min: number; max: number }>> = {
  qa: { min: 1, max: 1 },
  instruction: { min: 1, max: 1 },
  conversation: { min: 2, max: 4 },
};

const messageSchema = z.object({
  role: z.string(),
  content: z
    .string()
    .transform(sanitizeModelText)
    .refine((content) => content.length > 0, "empty after sanitising"),
});

function messagesSchema(mode: PairMode) {
  const { min, max } = TURN_LIMITS[mode];
  return z.array(messageSchema).superRefine((messages, ctx) => {
    if (messages.length === 0) {
      ctx.addIssue({ code: "custom", message: "no messages" });
      return;
    }
    for (const [i, message] of messages.entries()) {
      const expected = i % 2 === 0 ? "user" : "assistant";
      if (message.role !== expected) {
        ctx.addIssue({
          code: "custom",
          path: [i, "role"],
          message: `expected ${expected}, got ${JSON.stringify(message.role)}`,
        });
        return;
      }
    }
    if (messages.length % 2 !== 0) {
      ctx.addIssue({ code: "custom", message: "must end with an assistant message" });
      return;
    }
    const exchanges = messages.length / 2;
    if (exchanges < min || exchanges > max) {
      const allowed = min === max ? `exactly ${min} exchange` : `${min}–${max} exchanges`;
      ctx.addIssue({ code: "custom", message: `${mode} pairs have ${allowed}, got ${exchanges}` });
    }
  });
}

function responseSchema(mode: PairMode) {
  return z.object({
    pairs: z.array(z.object({ messages: messagesSchema(mode) })).max(MAX_PAIRS_PER_RESPONSE, {
      error: (issue) =>
        `at most ${MAX_PAIRS_PER_RESPONSE} pairs, got ${Array.isArray(issue.input) ? issue.input.length : "more"}`,
    }),
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const [first] = issues;
  if (!first) return "invalid pairs";
  const where = formatPath(first.path);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `${where ? `${where}: ` : ""}${first.message}${more}`;
}

// ---------------------------------------------------------------------------------------------------------
// Entry point

/**
 * Parses a model's reply for a request in `requestedMode`. The mode must be the requested one unless it
 * is `auto`, where the model's declared choice (or, failing that, the one its keys or turn counts imply)
 * is used. Never throws: a malformed reply is an outcome with a reason, not a crash of the worker.
 */
export function parseGeneratedPairs(raw: string, requestedMode: GenerationMode): ParseOutcome {
  try {
    return parse(raw, requestedMode);
  } catch (error) {
    return {
      ok: false,
      reason: `unreadable response: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

function parse(raw: string, requestedMode: GenerationMode): ParseOutcome {
  if (typeof raw !== "string") return { ok: false, reason: `expected text, got ${describe(raw)}` };
  const text = stripInvisible(raw);
  if (!text.trim()) return { ok: false, reason: "empty response" };
  const extracted = extractJson(text);
  if (!extracted.found) return { ok: false, reason: "not JSON: no JSON object or array in the response" };

  const canonical = toCanonical(extracted.value);
  if (typeof canonical === "string") return { ok: false, reason: canonical };
  const resolved = resolveMode(canonical, requestedMode);
  if ("reason" in resolved) return { ok: false, reason: resolved.reason };
  const pairMode = resolved.mode;

  const result = responseSchema(pairMode).safeParse({ pairs: canonical.pairs });
  if (!result.success) return { ok: false, reason: formatIssues(result.error.issues) };
  const pairs = result.data.pairs.map(
    (pair): GeneratedPair => ({
      mode: pairMode,
      messages: pair.messages.map(
        (m): PairMessage => ({ role: m.role as PairMessage["role"], content: m.content }),
      ),
    }),
  );
  return { ok: true, mode: pairMode, pairs };
}
