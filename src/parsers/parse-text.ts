import type { Block } from "../core/blocks.js";
import { listItemLines } from "./render-markdown.js";

// Bullets people type or paste (-, *, +, •, ◦, ▪, –) and "1." / "1)" numbering. Three digits at most, so
// a line opening with a year ("2024. A good year") stays prose.
const LIST_ITEM = /^([ \t]*)([-*+•◦▪–]|\d{1,3}[.)])[ \t]+(\S.*)$/;

interface ListLine {
  indent: number;
  marker: string;
  text: string;
}

/** Plain text: paragraphs split on blank lines; runs of list-looking lines become list blocks. */
export function parseText(text: string): Block[] {
  return splitParagraphs(text).flatMap(paragraphBlocks);
}

/** Blank-line separated paragraphs, trimmed, blanks dropped. */
export function splitParagraphs(text: string): string[] {
  return text
    .split(/\n[ \t]*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0);
}

/** A paragraph may open with prose ("You need:") and go on with items, so it is split into runs. */
function paragraphBlocks(paragraph: string): Block[] {
  const runs: { kind: "paragraph" | "list"; lines: string[] }[] = [];
  for (const line of paragraph.split("\n")) {
    const last = runs.at(-1);
    // An indented line right after an item is that item's continuation, not new prose.
    const kind = LIST_ITEM.test(line) || (last?.kind === "list" && /^\s/.test(line)) ? "list" : "paragraph";
    if (last?.kind === kind) last.lines.push(line);
    else runs.push({ kind, lines: [line] });
  }
  return runs.map((run) =>
    run.kind === "list"
      ? { kind: "list", text: renderListLines(run.lines) }
      : { kind: "paragraph", text: run.lines.map((line) => line.trim()).join("\n") },
  );
}

/** Normalises markers to "-" / "1." and indentation to two spaces per level, whatever the source used. */
function renderListLines(lines: string[]): string {
  const items = groupItems(lines);
  const depths = [...new Set(items.map((item) => item.indent))].sort((a, b) => a - b);
  return items
    .flatMap((item) => listItemLines(normaliseMarker(item.marker), item.text, depths.indexOf(item.indent)))
    .join("\n");
}

function groupItems(lines: string[]): ListLine[] {
  const items: ListLine[] = [];
  for (const line of lines) {
    const match = LIST_ITEM.exec(line);
    const last = items.at(-1);
    if (match) {
      items.push({ indent: indentWidth(match[1] ?? ""), marker: match[2] ?? "-", text: match[3] ?? "" });
    } else if (last) {
      last.text += `\n${line.trim()}`;
    }
  }
  return items;
}

function indentWidth(whitespace: string): number {
  return whitespace.replace(/\t/g, "    ").length;
}

function normaliseMarker(marker: string): string {
  return /^\d/.test(marker) ? `${Number.parseInt(marker, 10)}.` : "-";
}
