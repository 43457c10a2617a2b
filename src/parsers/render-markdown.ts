/**
 * The Markdown shapes that list, code and table blocks carry, in one place so every parser renders them
 * alike.
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
