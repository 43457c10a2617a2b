import type { Block } from "../core/blocks.js";

/**
 * The Markdown shapes that list, code and table blocks carry, and how raised and lowered text is written,
 * in one place so every parser renders them alike.
 */

/** A fenced code block whose fence is longer than any backtick run inside the code, so it cannot close early. */
export function fenceCode(code: string, language?: string): string {
  const longestRun = Math.max(0, ...Array.from(code.matchAll(/`+/g), (match) => match[0].length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  return `${fence}${language ?? ""}\n${code}\n${fence}`;
}

/** A pipe table; the first row is the header, short rows are padded so every row has the same columns. */
export function pipeTable(rows: readonly (readonly string[])[]): string {
  const width = Math.max(0, ...rows.map((row) => row.length));
  const cells = rows.map((row) => Array.from({ length: width }, (_, i) => tableCell(row[i] ?? "")));
  const [header = [], ...body] = cells;
  return [header, header.map(() => "---"), ...body].map((row) => `| ${row.join(" | ")} |`).join("\n");
}

function tableCell(text: string): string {
  return text.replace(/\s+/g, " ").trim().replace(/\|/g, "\\|");
}

/** A blockquote: every line prefixed "> ". */
export function quoteLines(text: string): string {
  return text
    .split("\n")
    .map((line) => (line ? `> ${line}` : ">"))
    .join("\n");
}

/**
 * One list item as lines: "- text" / "1. text" at two spaces per nesting level; the item's further lines
 * are indented under its text.
 */
export function listItemLines(marker: string, text: string, depth: number): string[] {
  const indent = "  ".repeat(depth);
  const continuation = `${indent}${" ".repeat(marker.length + 1)}`;
  const [first = "", ...rest] = text.split("\n");
  return [`${indent}${marker} ${first}`.trimEnd(), ...rest.map((line) => (line ? continuation + line : ""))];
}

/**
 * A list item's blocks, in their order, as the text under its marker (where `listItemLines` indents them to
 * the marker's width, as CommonMark reads a sub-list or code under "1. "): a blank line between blocks, as
 * between a document's, but a sub-list follows the line above it (the item's lead-in, or another sub-list),
 * as tight lists are written. A paragraph after a sub-list needs the blank line, or it would read as part of
 * the sub-list's last item. An item that opens with a sub-list keeps its marker on a line of its own.
 */
export function listItemText(blocks: readonly Block[]): string {
  return blocks
    .map((block, i) => {
      const before = blocks[i - 1]?.kind;
      const tight = block.kind === "list" && before !== "code" && before !== "table";
      return (tight ? "\n" : before ? "\n\n" : "") + block.text;
    })
    .join("");
}

const SUPERSCRIPTS = new Map([..."0123456789+-−=()ni"].map((c, i) => [c, "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱ"[i] as string]));
const SUBSCRIPTS = new Map([..."0123456789+-−=()"].map((c, i) => [c, "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎"[i] as string]));
// "1st", "2nd", French "1er", Spanish "1º": an ordinal's ending, raised after its number as typesetting does.
const ORDINAL = /^(?:st|nd|rd|th|er|re|e|o|a|º|ª)$/i;

/**
 * Raised or lowered text as Pandoc writes it in plain text: in Unicode's superscript or subscript
 * characters when it has them all ("x²", "H₂O", "10⁻⁶"), else after "^" or "_", in parentheses when longer
 * than one character ("2^(k+1)", "x_i"). Run together, an exponent read as a digit of its number ("x2",
 * "mc2"). Left as they are: marks with no letter or digit ("®", "*", "†"), an ordinal's ending after its
 * number ("1st"), and a bracketed reference ("[1]").
 */
export function shiftedText(tag: "sup" | "sub", text: string, before: string | undefined): string {
  if (!/[\p{L}\p{N}]/u.test(text) || /^\[.*\]$/.test(text)) return text;
  if (tag === "sup" && before && /\d/.test(before) && ORDINAL.test(text)) return text;
  const table = tag === "sup" ? SUPERSCRIPTS : SUBSCRIPTS;
  const chars = [...text];
  if (chars.every((c) => table.has(c))) return chars.map((c) => table.get(c)).join("");
  const mark = tag === "sup" ? "^" : "_";
  return chars.length === 1 ? `${mark}${text}` : `${mark}(${text})`;
}
