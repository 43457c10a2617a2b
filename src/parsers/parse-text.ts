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

// A line of one repeated mark, as plain text underlines a title with or sets sections apart by.
const RULE = /^[ \t]*([=\-*_~#])\1{2,}[ \t]*$/;

/**
 * Plain text: paragraphs split on blank lines; runs of list-looking lines become list blocks; a line
 * underlined with "===" or "---" (as README.txt files and RFCs write titles) is a heading, of level 1 or 2.
 * No other heading is guessed: an all-capitals line or "1. Introduction" may as well be prose or an item.
 */
export function parseText(text: string): Block[] {
  return splitParagraphs(text).flatMap(paragraphBlocks);
}

/** Blank-line separated paragraphs, blanks dropped; each keeps its lines' indentation. */
export function splitParagraphs(text: string): string[] {
  return text
    .split(/\n[ \t]*\n/)
    .filter((paragraph) => paragraph.trim().length > 0)
    .map((paragraph) => paragraph.replace(/^(?:[ \t]*\n)+/, "").trimEnd());
}

type Run = { kind: "paragraph" | "list"; lines: string[] } | { kind: "heading"; level: number; text: string };

/** A paragraph may open with prose ("You need:") and go on with items, so it is split into runs. */
function paragraphBlocks(paragraph: string): Block[] {
  const runs: Run[] = [];
  for (const line of paragraph.split("\n")) {
    const last = runs.at(-1);
    const rule = RULE.exec(line)?.[1];
    if (rule) {
      // Under a title-like line, "=" and "-" make it a title; anywhere else a rule only sets text apart.
      const title =
        last?.kind === "paragraph" && isTitle(last.lines.at(-1)) && (rule === "=" || rule === "-");
      if (title) runs.splice(-1, 1, ...underlined(last.lines, rule === "=" ? 1 : 2));
      continue;
    }
    // An indented line right after an item is that item's continuation, not new prose.
    const kind = LIST_ITEM.test(line) || (last?.kind === "list" && /^\s/.test(line)) ? "list" : "paragraph";
    if (last?.kind === kind) last.lines.push(line);
    else runs.push({ kind, lines: [line] });
  }
  return runs.flatMap((run): Block[] => {
    if (run.kind === "heading") return [{ kind: "heading", level: run.level, text: run.text }];
    if (run.kind === "list") return [{ kind: "list", text: renderListLines(run.lines) }];
    return run.lines.length > 0 ? [{ kind: "paragraph", text: dedented(run.lines) }] : [];
  });
}

/** Short, and not the end of a sentence or clause: a rule after a paragraph's last line only closes it. */
const isTitle = (line: string | undefined) =>
  line !== undefined && line.trim().length <= 100 && !/[.,;:]$/.test(line.trim());

/** A paragraph whose last line is underlined: the lines before it stay a paragraph, the last is the title. */
function underlined(lines: string[], level: number): Run[] {
  const title = { kind: "heading" as const, level, text: (lines.at(-1) ?? "").trim() };
  return lines.length > 1 ? [{ kind: "paragraph", lines: lines.slice(0, -1) }, title] : [title];
}

/**
 * Lines without the indentation they share, so that indented code keeps its nesting (Python's meaning
 * depends on it) and a paragraph set in by a tab reads as any other.
 */
function dedented(lines: string[]): string {
  const indents = lines.filter((line) => line.trim()).map((line) => /^[ \t]*/.exec(line)?.[0].length ?? 0);
  const shared = Math.min(...indents);
  return lines.map((line) => line.slice(shared).trimEnd()).join("\n");
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
