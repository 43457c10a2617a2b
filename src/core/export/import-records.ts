/**
 * The export formats read back, to import a JSONL made elsewhere. Each record is checked with zod and then
 * against the same turn rules export applies, so whatever imports can be exported again; a FineFlow file
 * round-trips byte for byte. Common variants are accepted where their meaning is unambiguous; anything that
 * would change what the model learns (an OpenAI `weight`, a tool turn) is refused with the line and field.
 */
import { z } from "zod";
import { ValidationError } from "../errors.js";
import type { PairMessage } from "../generation/types.js";
import { kindOf, withArticle } from "../plain-issues.js";
import {
  ANTHROPIC_ASSISTANT,
  ANTHROPIC_HUMAN,
  EXPORT_FORMATS,
  type ExportFormat,
  exportIssue,
} from "./formats.js";
import { isBlank, type TurnNaming, turnsIssue } from "./turns.js";

/** A line of an imported file that cannot be read; the message names the line and the field. */
export class ImportLineError extends ValidationError {
  constructor(
    readonly line: number,
    readonly field: string,
    message: string,
  ) {
    super(`line ${line}: ${field}: ${message}`, [{ field: `line ${line}: ${field}`, message }]);
  }
}

export interface ImportedRecord {
  /** The turns, without a system message. */
  messages: PairMessage[];
  systemPrompt?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Shapes

const ROLES = ["system", "user", "assistant"] as const;

// Message objects are strict: OpenAI's `weight` or `name` change how an example trains, so dropping them
// silently would import a different dataset. Top-level keys are not: other tools add ids and metadata there.
const openaiSchema = z.object({
  messages: z.array(z.strictObject({ role: z.enum(ROLES), content: z.string() })).min(1),
});

const anthropicSchema = z.object({ prompt: z.string(), completion: z.string() });

const bedrockSchema = z.object({
  system: z.string().optional(),
  messages: z.array(z.strictObject({ role: z.enum(["user", "assistant"]), content: z.string() })).min(1),
});

const alpacaSchema = z.object({
  instruction: z.string(),
  input: z.string().optional(),
  output: z.string(),
  system: z.string().optional(),
  history: z.array(z.tuple([z.string(), z.string()])).optional(),
});

// ShareGPT files in the wild spell roles both ways; LLaMA-Factory also puts the system text at the top.
const SHAREGPT_ROLES = {
  system: "system",
  human: "user",
  user: "user",
  gpt: "assistant",
  assistant: "assistant",
} as const satisfies Record<string, PairMessage["role"]>;
type SharegptFrom = keyof typeof SHAREGPT_ROLES;

const sharegptSchema = z.object({
  system: z.string().optional(),
  conversations: z
    .array(
      z.strictObject({
        from: z.enum(Object.keys(SHAREGPT_ROLES) as [SharegptFrom, ...SharegptFrom[]]),
        value: z.string(),
      }),
    )
    .min(1),
});

// ---------------------------------------------------------------------------------------------------------
// Detection

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The format a record is in, from its keys. A `messages` record without a top-level `system` reads the same
 * as OpenAI or Bedrock, so it is called OpenAI: the pair imported is identical either way.
 */
export function detectFormat(record: unknown): ExportFormat | undefined {
  if (!isPlainObject(record)) return undefined;
  if ("messages" in record) return "system" in record ? "anthropic-bedrock" : "openai";
  if ("prompt" in record && "completion" in record) return "anthropic";
  if ("instruction" in record && "output" in record) return "alpaca";
  if ("conversations" in record) return "sharegpt";
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Reading

/** One record in a known format, as the turns and the system text; throws `ImportLineError`. */
export function fromRecord(format: ExportFormat, record: unknown, line: number): ImportedRecord {
  const result = readRecord(format, record, line);
  // What import accepts, export must write back. The turn rules were checked above under the format's own
  // field names; what is left to catch here is an anthropic marker in the system text, which is the prompt.
  const issue = exportIssue(format, result.messages, result.systemPrompt);
  if (issue) throw new ImportLineError(line, format === "anthropic" ? "prompt" : issue.field, issue.message);
  return result;
}

function readRecord(format: ExportFormat, record: unknown, line: number): ImportedRecord {
  switch (format) {
    case "openai":
      return readOpenai(parseShape(openaiSchema, record, line), line);
    case "anthropic":
      return readAnthropic(parseShape(anthropicSchema, record, line), line);
    case "anthropic-bedrock":
      return readBedrock(parseShape(bedrockSchema, record, line), line);
    case "alpaca":
      return readAlpaca(parseShape(alpacaSchema, record, line), line);
    case "sharegpt":
      return readSharegpt(parseShape(sharegptSchema, record, line), line);
  }
}

function readOpenai(record: z.output<typeof openaiSchema>, line: number): ImportedRecord {
  const [first, ...rest] = record.messages;
  const hasSystem = first?.role === "system";
  const turns = hasSystem ? rest : record.messages;
  const offset = hasSystem ? 1 : 0;
  checkTurns(turns, line, {
    list: "messages",
    at: (index, key) => `messages[${index + offset}].${key}`,
    roleName: (role) => role,
  });
  return imported(turns, hasSystem ? first.content : undefined);
}

function readBedrock(record: z.output<typeof bedrockSchema>, line: number): ImportedRecord {
  checkTurns(record.messages, line, {
    list: "messages",
    at: (index, key) => `messages[${index}].${key}`,
    roleName: (role) => role,
  });
  return imported(record.messages, record.system);
}

function readAlpaca(record: z.output<typeof alpacaSchema>, line: number): ImportedRecord {
  const history = record.history ?? [];
  // Alpaca's `input` is the material the instruction is about; a chat model sees both in one user turn.
  const request = isBlank(record.input) ? record.instruction : `${record.instruction}\n\n${record.input}`;
  const turns: PairMessage[] = [
    ...history.flatMap(([user, assistant]): PairMessage[] => [
      { role: "user", content: user },
      { role: "assistant", content: assistant },
    ]),
    { role: "user", content: request },
    { role: "assistant", content: record.output },
  ];
  checkTurns(turns, line, {
    list: "record",
    at: (index) => alpacaField(index, history.length),
    roleName: (r) => r,
  });
  return imported(turns, record.system);
}

/** Where turn `index` sits in an alpaca record: history pairs first, then instruction and output. */
function alpacaField(index: number, historyLength: number): string {
  if (index < historyLength * 2) return `history[${Math.floor(index / 2)}][${index % 2}]`;
  return index === historyLength * 2 ? "instruction" : "output";
}

function readSharegpt(record: z.output<typeof sharegptSchema>, line: number): ImportedRecord {
  const messages = record.conversations.map((turn) => ({
    role: SHAREGPT_ROLES[turn.from],
    content: turn.value,
  }));
  const [first, ...rest] = messages;
  const hasSystem = first?.role === "system";
  if (hasSystem && record.system !== undefined) {
    throw new ImportLineError(line, "system", "given both here and as conversations[0]; keep one");
  }
  const offset = hasSystem ? 1 : 0;
  checkTurns(hasSystem ? rest : messages, line, {
    list: "conversations",
    at: (index, key) => `conversations[${index + offset}].${key === "role" ? "from" : "value"}`,
    roleName: (role) => (role === "user" ? "human" : role === "assistant" ? "gpt" : role),
  });
  return imported(hasSystem ? rest : messages, hasSystem ? first.content : record.system);
}

/**
 * Splits the legacy prompt back into turns: the text before the first Human marker is the system text,
 * then Human and Assistant alternate, and the prompt ends with the Assistant marker left open for the
 * completion. A prompt without the leading blank line ("Human: …") is refused, not guessed at: text before
 * the first marker is the system prompt, which may itself begin with "Human:".
 */
function readAnthropic(record: z.output<typeof anthropicSchema>, line: number): ImportedRecord {
  const prompt = record.prompt;
  const start = prompt.indexOf(ANTHROPIC_HUMAN);
  if (start < 0) {
    throw new ImportLineError(line, "prompt", `must contain ${JSON.stringify(ANTHROPIC_HUMAN)}`);
  }
  if (!prompt.endsWith(ANTHROPIC_ASSISTANT)) {
    throw new ImportLineError(line, "prompt", `must end with ${JSON.stringify(ANTHROPIC_ASSISTANT)}`);
  }
  const turns = promptTurns(prompt.slice(start, -ANTHROPIC_ASSISTANT.length), line);
  turns.push({ role: "assistant", content: completionText(record.completion, line) });
  return imported(turns, prompt.slice(0, start));
}

/** The turns of a prompt body that starts with a Human marker and has had its final marker cut off. */
function promptTurns(body: string, line: number): PairMessage[] {
  const turns: PairMessage[] = [];
  let position = 0;
  while (position < body.length) {
    const role = turns.length % 2 === 0 ? "user" : "assistant";
    const marker = role === "user" ? ANTHROPIC_HUMAN : ANTHROPIC_ASSISTANT;
    const turn = `turn ${turns.length + 1}`;
    if (!body.startsWith(marker, position)) {
      throw new ImportLineError(line, "prompt", `${turn} should start with ${JSON.stringify(marker)}`);
    }
    // The format puts one space after the colon; any further space belongs to the message.
    const contentStart = position + marker.length + (body[position + marker.length] === " " ? 1 : 0);
    const next = nextMarker(body, contentStart);
    const content = body.slice(contentStart, next);
    if (isBlank(content)) {
      throw new ImportLineError(
        line,
        "prompt",
        `${turn} (${role === "user" ? "Human" : "Assistant"}) is empty`,
      );
    }
    turns.push({ role, content });
    position = next;
  }
  if (turns.length % 2 === 0) {
    const final = JSON.stringify(ANTHROPIC_ASSISTANT);
    throw new ImportLineError(line, "prompt", `must end with a Human turn before the final ${final}`);
  }
  return turns;
}

/** The completion is written with one leading space after "Assistant:"; that space is the format's. */
function completionText(completion: string, line: number): string {
  const text = completion.startsWith(" ") ? completion.slice(1) : completion;
  if (isBlank(text)) throw new ImportLineError(line, "completion", "must not be empty");
  const marker = [ANTHROPIC_HUMAN, ANTHROPIC_ASSISTANT].find((m) => text.includes(m));
  if (marker) throw new ImportLineError(line, "completion", `must not contain ${JSON.stringify(marker)}`);
  return text;
}

function nextMarker(text: string, from: number): number {
  const found = [text.indexOf(ANTHROPIC_HUMAN, from), text.indexOf(ANTHROPIC_ASSISTANT, from)].filter(
    (index) => index >= 0,
  );
  return found.length === 0 ? text.length : Math.min(...found);
}

function checkTurns(turns: readonly PairMessage[], line: number, naming: TurnNaming): void {
  const issue = turnsIssue(turns, naming);
  if (issue) throw new ImportLineError(line, issue.field, issue.message);
}

/** A blank system text is no system text: FineFlow never writes one, and exporting it would train on nothing. */
function imported(turns: readonly PairMessage[], system: string | undefined): ImportedRecord {
  const messages = turns.map(({ role, content }) => ({ role, content }));
  return system === undefined || isBlank(system) ? { messages } : { messages, systemPrompt: system };
}

// ---------------------------------------------------------------------------------------------------------
// Lines

/** One line of a JSONL file; undefined for a blank line. Line numbers start at 1, as an editor shows them. */
export function parseJsonlLine(
  format: ExportFormat | "auto",
  text: string,
  line: number,
): (ImportedRecord & { format: ExportFormat }) | undefined {
  // A byte-order mark is what Windows editors put before the first line; it is not part of the JSON.
  const json = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (json.trim() === "") return undefined;
  let record: unknown;
  try {
    record = JSON.parse(json);
  } catch (error) {
    throw new ImportLineError(line, "json", `not valid JSON (${(error as Error).message})`);
  }
  const resolved = format === "auto" ? detectFormat(record) : format;
  if (resolved === undefined) {
    throw new ImportLineError(
      line,
      "format",
      `not one of ${EXPORT_FORMATS.join(", ")}: expected a "messages", "prompt" and "completion", ` +
        `"instruction" and "output", or "conversations" key`,
    );
  }
  return { format: resolved, ...fromRecord(resolved, record, line) };
}

// ---------------------------------------------------------------------------------------------------------
// Zod issues, named the way a user finds them in the file

function parseShape<T>(schema: z.ZodType<T>, record: unknown, line: number): T {
  const result = schema.safeParse(record, { error: describeIssue });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ImportLineError(line, fieldOf(issue?.path ?? []), issue?.message ?? "invalid");
}

function fieldOf(path: readonly PropertyKey[]): string {
  let field = "";
  for (const key of path) {
    field += typeof key === "number" ? `[${key}]` : `${field === "" ? "" : "."}${String(key)}`;
  }
  return field === "" ? "record" : field;
}

/** A record's issues as a line of a file is described; the rest in `plainIssue`'s words. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? "missing"
        : `expected ${withArticle(issue.expected)}, got ${kindOf(issue.input)}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}, got ${preview(issue.input)}`;
    case "unrecognized_keys":
      return `unrecognized key${issue.keys.length === 1 ? "" : "s"} ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}`;
    default:
      return undefined;
  }
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
