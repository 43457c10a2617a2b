import { z } from "zod";
import type { Block } from "../core/blocks.js";
import { DocumentParseError } from "./document-parse-error.js";
import { splitParagraphs } from "./parse-text.js";

// A title of the wrong type is ignored rather than failing the record: the text is what matters.
const TextRecord = z.object({ text: z.string(), title: z.string().optional().catch(undefined) });

const RECORD_SHAPE = 'each record must be an object with a string "text" field, e.g. {"text": "…"}';

/** A JSON array of {text, title?} records, or a single such object. */
export function parseJsonRecords(json: string): Block[] {
  const value = parseJson(json, "This file", "corrupt", () =>
    looksLikeJsonLines(json) ? JSON_LINES_HINT : "",
  );
  if (Array.isArray(value)) return value.flatMap((record, i) => recordBlocks(record, `Record at index ${i}`));
  if (typeof value === "object" && value !== null) return recordBlocks(value, "The JSON object");
  throw new DocumentParseError(
    "invalid_records",
    `The JSON is neither an array of records nor a single record; ${RECORD_SHAPE}.`,
  );
}

/** JSON Lines: one {text, title?} object per line; blank lines are skipped. */
export function parseJsonLinesRecords(jsonl: string): Block[] {
  return jsonl.split("\n").flatMap((line, i) => {
    if (!line.trim()) return [];
    const where = `Line ${i + 1}`;
    // Files joined together keep each one's byte order mark, at the start of a line: nobody sees it.
    return recordBlocks(parseJson(line.replace(/^\uFEFF/, ""), where, "invalid_records"), where);
  });
}

/** `hint`: what else to say when the text is no JSON, worked out only then. */
function parseJson(
  text: string,
  subject: string,
  reason: "corrupt" | "invalid_records",
  hint = () => "",
): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // JSON.parse's own message says where the syntax breaks, which is what the user needs to fix it.
    const detail = error instanceof SyntaxError ? ` (${error.message})` : "";
    throw new DocumentParseError(reason, `${subject} is not valid JSON${detail}.${hint()}`);
  }
}

const JSON_LINES_HINT = " It reads as JSON Lines, a record a line: name it .jsonl.";

/** Its first two lines JSON objects by themselves: a .jsonl file named .json. */
function looksLikeJsonLines(text: string): boolean {
  const lines = text.trimStart().split("\n", 2);
  return lines.length === 2 && lines.every(isJsonObject);
}

function isJsonObject(text: string): boolean {
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function recordBlocks(value: unknown, where: string): Block[] {
  const record = TextRecord.safeParse(value);
  if (!record.success) {
    throw new DocumentParseError("invalid_records", `${where} has no string "text" field; ${RECORD_SHAPE}.`);
  }
  const { title, text } = record.data;
  // Each record a section of its own, under its title or none (`isUntitledSection`): records are separate
  // texts, and an untitled one was run into the chunk of the record before, under that one's title.
  return [
    { kind: "heading", level: 1, text: title?.trim() ?? "" },
    ...splitParagraphs(text).map((paragraph): Block => ({ kind: "paragraph", text: paragraph })),
  ];
}
