/**
 * The export formats, the one place they live (SPEC §4.5). Each turns a pair's messages and the dataset's
 * system prompt into one JSONL record; `import-records.ts` reads the same shapes back. Key order is part of
 * each shape: exports are compared byte for byte, and JSON.stringify keeps insertion order.
 */
import { type FieldIssue, ValidationError } from "../errors.js";
import type { PairMessage } from "../generation/types.js";
import { DATASET_FORMATS, type DatasetFormat } from "../statuses.js";
import { resolveConversation, turnsIssue } from "./turns.js";

export const EXPORT_FORMATS = DATASET_FORMATS;
export type ExportFormat = DatasetFormat;

/** The legacy Anthropic turn markers; the prompt always ends with the assistant's, left open. */
export const ANTHROPIC_HUMAN = "\n\nHuman:";
export const ANTHROPIC_ASSISTANT = "\n\nAssistant:";

/**
 * Why this pair cannot be written in this format, if it cannot. Export services can ask before streaming,
 * so one bad pair is reported up front instead of breaking a download half-way.
 */
export function exportIssue(
  format: ExportFormat,
  messages: readonly PairMessage[],
  systemPrompt?: string,
): FieldIssue | undefined {
  const { system, turns, offset } = resolveConversation(messages, systemPrompt);
  const issue = turnsIssue(turns, {
    list: "messages",
    at: (index, key) => `messages[${index + offset}].${key}`,
    roleName: (role) => role,
  });
  if (issue || format !== "anthropic") return issue;
  return anthropicMarkerIssue(system, turns, offset);
}

/**
 * The legacy prompt has no escaping: a marker inside a message would split it into turns the author never
 * wrote, and the model would learn that structure. Anthropic's own API refused such prompts too.
 */
function anthropicMarkerIssue(
  system: string | undefined,
  turns: readonly PairMessage[],
  offset: number,
): FieldIssue | undefined {
  const marker = (text: string) => [ANTHROPIC_HUMAN, ANTHROPIC_ASSISTANT].find((m) => text.includes(m));
  const inSystem = system === undefined ? undefined : marker(system);
  if (inSystem) return markerIssue(offset === 1 ? "messages[0].content" : "systemPrompt", inSystem);
  for (const [index, turn] of turns.entries()) {
    const found = marker(turn.content);
    if (found) return markerIssue(`messages[${index + offset}].content`, found);
  }
  return undefined;
}

function markerIssue(field: string, marker: string): FieldIssue {
  return {
    field,
    message: `must not contain ${JSON.stringify(marker)}, which the anthropic prompt format uses between turns`,
  };
}

/** One export record. Throws a `ValidationError` naming the field when the pair cannot be written. */
export function toRecord(
  format: ExportFormat,
  messages: readonly PairMessage[],
  systemPrompt?: string,
): Record<string, unknown> {
  const issue = exportIssue(format, messages, systemPrompt);
  if (issue) throw ValidationError.forField(issue.field, issue.message);
  const { system, turns } = resolveConversation(messages, systemPrompt);
  switch (format) {
    case "openai":
      return openaiRecord(system, turns);
    case "anthropic":
      return anthropicRecord(system, turns);
    case "anthropic-bedrock":
      return bedrockRecord(system, turns);
    case "alpaca":
      return alpacaRecord(system, turns);
    case "sharegpt":
      return sharegptRecord(system, turns);
  }
}

function openaiRecord(system: string | undefined, turns: readonly PairMessage[]): Record<string, unknown> {
  const head = system === undefined ? [] : [{ role: "system", content: system }];
  return { messages: [...head, ...turns.map(({ role, content }) => ({ role, content }))] };
}

function anthropicRecord(system: string | undefined, turns: readonly PairMessage[]): Record<string, unknown> {
  let prompt = system ?? "";
  for (const turn of turns.slice(0, -1)) {
    prompt += `${turn.role === "user" ? ANTHROPIC_HUMAN : ANTHROPIC_ASSISTANT} ${turn.content}`;
  }
  prompt += ANTHROPIC_ASSISTANT;
  return { prompt, completion: ` ${lastContent(turns)}` };
}

function bedrockRecord(system: string | undefined, turns: readonly PairMessage[]): Record<string, unknown> {
  const messages = turns.map(({ role, content }) => ({ role, content }));
  return system === undefined ? { messages } : { system, messages };
}

function alpacaRecord(system: string | undefined, turns: readonly PairMessage[]): Record<string, unknown> {
  const history: [string, string][] = [];
  for (let index = 0; index + 3 < turns.length; index += 2) {
    history.push([turns[index]?.content ?? "", turns[index + 1]?.content ?? ""]);
  }
  const record: Record<string, unknown> = {
    instruction: turns.at(-2)?.content ?? "",
    // FineFlow keeps the whole request in the instruction; `input` stays for readers that require it.
    input: "",
    output: lastContent(turns),
  };
  if (system !== undefined) record.system = system;
  if (history.length > 0) record.history = history;
  return record;
}

function sharegptRecord(system: string | undefined, turns: readonly PairMessage[]): Record<string, unknown> {
  const head = system === undefined ? [] : [{ from: "system", value: system }];
  const body = turns.map((turn) => ({ from: turn.role === "user" ? "human" : "gpt", value: turn.content }));
  return { conversations: [...head, ...body] };
}

function lastContent(turns: readonly PairMessage[]): string {
  return turns.at(-1)?.content ?? "";
}

/**
 * JSON leaves U+0085, U+2028 and U+2029 raw, and line readers such as Python's `str.splitlines` break on
 * them, which would cut a record in two. Escaping just these keeps every other character as written.
 */
const LINE_BREAKS_JSON_KEEPS = /[\u0085\u2028\u2029]/g;

/** One JSONL line, without its trailing line feed. */
export function toJsonlLine(
  format: ExportFormat,
  messages: readonly PairMessage[],
  systemPrompt?: string,
): string {
  return JSON.stringify(toRecord(format, messages, systemPrompt)).replace(
    LINE_BREAKS_JSON_KEEPS,
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Exported lines leave in chunks of about this many characters: one write (or HTTP chunk) a line cost a
 * round trip each and kept every line alive long enough to reach the old heap generation.
 */
export const EXPORT_CHUNK_CHARS = 64 * 1024;

/** Every format is JSON Lines; the format itself goes in the name (see `suggestedFileName`). */
export function fileExtensionFor(_format: ExportFormat): string {
  return "jsonl";
}

const MAX_STEM_LENGTH = 80;
// Windows refuses these as a file's base name whatever the extension.
const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|com\d|lpt\d)$/;

/**
 * A name safe on every file system and in a plain `Content-Disposition` header: ASCII letters, digits and
 * dashes only, so "Support Docs (v2)" becomes "support-docs-v2.openai.jsonl".
 */
export function suggestedFileName(
  datasetName: string,
  format: ExportFormat,
  part?: "train" | "validation",
): string {
  const stem = datasetName
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, MAX_STEM_LENGTH)
    .replace(/^-+|-+$/g, "");
  const safeStem = stem === "" ? "dataset" : WINDOWS_RESERVED.test(stem) ? `${stem}-dataset` : stem;
  return [safeStem, format, part, fileExtensionFor(format)].filter((piece) => piece !== undefined).join(".");
}
