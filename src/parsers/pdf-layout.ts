import type { Block } from "../core/blocks.js";
import { fenceCode, listItemLines } from "./render-markdown.js";

/**
 * A PDF's structure from the layout of its text, as pdf.js reports it: a PDF holds positioned glyphs, not
 * headings or lists, so they are read back from what a reader sees — a larger font is a heading, a
 * monospaced line is code, a line opening with a bullet is a list item, a wider gap between lines ends a
 * paragraph, and a line repeated at the top or bottom of page after page is the page's furniture (running
 * header, footer, page number), not content.
 */

/** A piece of text pdf.js places on a page (a line is split into pieces wherever the font changes). */
export interface PdfTextPiece {
  str: string;
  /** Left edge, in points. */
  x: number;
  /** Baseline height on the page; PDF's y axis points up, so the next line down has a smaller y. */
  y: number;
  /** Width of the piece, in points. */
  width: number;
  /** Font size, in points. */
  size: number;
  monospace: boolean;
  /** pdf.js's mark of where a line really ends. */
  hasEOL: boolean;
}

export interface PdfLine {
  /** The line's text, runs of whitespace as one space. */
  text: string;
  y: number;
  x: number;
  /** Where the line's last character ends. */
  right: number;
  /** The font size of most of the line's characters. */
  size: number;
  /** Set when every character is in a monospaced font: the pieces, to lay the line out as code. */
  code?: { x: number; str: string; charWidth: number }[];
}

// A gap this much wider than the page's usual line spacing is read as a paragraph break.
const PARAGRAPH_GAP_FACTOR = 1.4;
// Code keeps its blank lines, and list items may stand apart: gaps up to this many paragraph breaks.
const NEAR_GAP_FACTOR = 2.2;
// A line set this much larger than the body text is a heading (LaTeX's \large over 10 pt is 1.2).
const HEADING_SIZE_FACTOR = 1.15;
// Longer than this, larger text is a lead paragraph or a pull quote, not a heading.
const HEADING_MAX_CHARS = 200;
const HEADING_MAX_LINES = 3;
// A line at a page's edge, set apart, repeated (digits aside) on this many pages is a running header or
// footer.
const RUNNING_LINE_MIN_PAGES = 2;
// A page number and a running title may be two lines at the same edge.
const EDGE_LINES = 2;
// The lines of one heading are at most this many times its font size apart.
const HEADING_LEADING = 1.6;
// A line ending within this share of its width from the right margin ran to it (justified text ends
// on it, ragged text close to it).
const WRAP_SLACK = 0.15;
// Left edges this many em apart are one margin: a paragraph's first-line indent is an em or more.
const INDENT_SLACK = 0.5;
// A line ending a sentence, closing quotes and brackets aside.
const SENTENCE_END = /[.!?…]["'”’)\]]*$/u;
// A gap between pieces wider than this share of the font size separates words (a space is ~0.25 em).
const WORD_GAP = 0.15;
// Sizes within this many points are one heading level, as fonts' reported sizes carry rounding noise.
const SIZE_STEP = 0.5;

// Bullet glyphs may touch their text; a typed "-" or "1." marker is followed by a space. Not "*": in a PDF
// a line opening with one is far more often a C pointer or a footnote than a bullet.
const LIST_ITEM = /^(?:([•◦▪▫●○■□►▸‣⁃∙])\s*|([-–]|\d{1,2}[.)])\s+)(\S.*)$/u;
// A table of contents' or an index's entry, its dot leader running to a page number, or to an index's
// several ("12, 45", "7–9").
const TOC_ENTRY = /(?:\.\s?){4,}\s*(\d+(?:\s*[,–-]\s*\d+)*)$/;
// Printed page numbers run behind the PDF's where front matter is numbered apart (in roman numerals, or not
// at all), and ahead only where the PDF leaves pages out (a cover, blank pages): a tenth more. In proportion,
// not a few pages more, or a one-page price list's "2" and "3" would pass for pages.
const PAGE_NUMBER_SLACK = 0.1;
// An index's orders, case and accents aside: word by word (makeindex's, and most publishers'), or letter by
// letter, punctuation aside (texindex's: "asn1Parser program" before "ASN.1 schema").
const INDEX_ORDERS = [
  new Intl.Collator("en", { sensitivity: "base" }),
  new Intl.Collator("en", { sensitivity: "base", ignorePunctuation: true }),
];
const INDEX_LETTERS = /^\p{L}(?: \p{L})*$/u;
// "7", "iv", "- 7 -", "Page 7", "Page 7 of 30", "7 / 30".
const PAGE_NUMBER = /^(?:page\s+)?[-–—]?\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—]?(?:\s*(?:of|\/)\s*\d{1,4})?$/i;

/** One page's pieces as lines, in the order pdf.js reads them. */
export function pageLines(pieces: readonly PdfTextPiece[]): PdfLine[] {
  const lines: PdfLine[] = [];
  let current: PdfTextPiece[] = [];
  const flush = () => {
    const line = lineOf(current);
    if (line) lines.push(line);
    current = [];
  };
  for (const piece of pieces) {
    // pdf.js does not always mark the end of a line (a title running into its subtitle, say): a piece
    // set lower or higher than the line by more than a superscript's shift starts a new one.
    const first = current[0];
    if (piece.str.trim() && first && Math.abs(first.y - piece.y) > Math.max(first.size, piece.size) * 0.5) {
      flush();
    }
    if (piece.str) current.push(piece);
    if (piece.hasEOL) flush();
  }
  flush();
  return lines;
}

function lineOf(pieces: readonly PdfTextPiece[]): PdfLine | undefined {
  const text = pieces
    .map((piece, i) => (spacedFrom(pieces[i - 1], piece) ? ` ${piece.str}` : piece.str))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
  const inked = pieces.filter((piece) => piece.str.trim());
  const first = inked[0];
  const last = inked.at(-1);
  if (!text || !first || !last) return undefined;
  const charsBySize = new Map<number, number>();
  for (const piece of pieces) {
    const chars = piece.str.trim().length;
    if (chars > 0) charsBySize.set(piece.size, (charsBySize.get(piece.size) ?? 0) + chars);
  }
  const line: PdfLine = {
    text,
    y: first.y,
    x: first.x,
    right: last.x + last.width,
    size: mostCommon(charsBySize),
  };
  if (inked.every((piece) => piece.monospace)) {
    line.code = inked.map((piece) => ({
      x: piece.x,
      str: piece.str,
      charWidth: piece.width / piece.str.length,
    }));
  }
  return line;
}

/** A visible gap between two pieces is a space, even where the PDF has no space character for it. */
function spacedFrom(previous: PdfTextPiece | undefined, piece: PdfTextPiece): boolean {
  return previous !== undefined && piece.x - (previous.x + previous.width) > previous.size * WORD_GAP;
}

/** The document's blocks, page by page, each with the 1-based page number it starts on (and ends on, if later). */
export function layoutBlocks(pages: readonly PdfLine[][]): Block[] {
  const bodySize = mostCommon(charsBy(pages.flat(), (line) => sizeStep(line.size)));
  const content = withoutPageFurniture(pages, bodySize).map((lines) =>
    withoutContentsEntries(lines, pages.length),
  );
  const all = content.flat();
  // A document set all in a monospaced font (a printed text file) has no code to set apart.
  const codeChars = sumChars(all.filter((line) => line.code));
  const codeApart = codeChars < sumChars(all) / 2;
  const runs = documentRuns(
    content.map((lines, i) => pageText(lines, i, bodySize)),
    bodySize,
    codeApart,
  );
  const levels = headingLevels(runs);
  return runs.map((run) => renderRun(run, levels));
}

// ---------------------------------------------------------------------------------------------------------
// Page furniture

/**
 * Each page without its running header, footer and page number: at either edge of a page and set apart from
 * the page's text by more than a paragraph break, a page number, or a line whose text (digits aside) stands
 * at that edge of another page too. A repeated line that is not set apart ("Question 3" opening each page)
 * stays.
 */
function withoutPageFurniture(pages: readonly PdfLine[][], bodySize: number): PdfLine[][] {
  const tops = edgeCounts(pages.map((lines) => lines.slice(0, EDGE_LINES)));
  const bottoms = edgeCounts(pages.map((lines) => lines.slice(-EDGE_LINES)));
  return pages.map((lines) => {
    const breakGap = usualLineGap(lines) * PARAGRAPH_GAP_FACTOR;
    const isFurniture = (
      line: PdfLine | undefined,
      inward: PdfLine | undefined,
      counts: Map<string, number>,
    ) =>
      line !== undefined &&
      // A title page's title may be the running header's text.
      line.size < bodySize * HEADING_SIZE_FACTOR &&
      // A page's only line is its content, however often it recurs.
      inward !== undefined &&
      Math.abs(line.y - inward.y) > breakGap &&
      (PAGE_NUMBER.test(line.text) || (counts.get(runningKey(line)) ?? 0) >= RUNNING_LINE_MIN_PAGES);
    let start = 0;
    let end = lines.length;
    while (start < end && start < EDGE_LINES && isFurniture(lines[start], lines[start + 1], tops)) start++;
    while (
      end > start &&
      lines.length - end < EDGE_LINES &&
      isFurniture(lines[end - 1], lines[end - 2], bottoms)
    ) {
      end--;
    }
    return lines.slice(start, end);
  });
}

/**
 * A table of contents' or an index's page without its entries: where at least half a page's lines (and
 * three or more) run a dot leader to what can be page numbers, in a contents page's or an index's order,
 * those lines are navigation, not text to learn from, and so are an index's letters ("A", "F H"). An entry
 * here and there on a page of text stays, and so does a spec sheet or a price list ("Weight ..... 12").
 */
function withoutContentsEntries(lines: PdfLine[], pageCount: number): PdfLine[] {
  const entries = lines.flatMap((line) => contentsEntry(line) ?? []);
  if (entries.length < 3 || entries.length * 2 < lines.length || !navigation(entries, pageCount)) {
    return lines;
  }
  return lines.filter((line) => !TOC_ENTRY.test(line.text) && !INDEX_LETTERS.test(line.text));
}

interface ContentsEntry {
  /** The text before the dot leader. */
  label: string;
  numbers: number[];
  x: number;
}

function contentsEntry(line: PdfLine): ContentsEntry | undefined {
  const match = TOC_ENTRY.exec(line.text);
  if (!match) return undefined;
  const numbers = (match[1] ?? "").split(/\D+/).map(Number);
  return { label: line.text.slice(0, match.index).trim(), numbers, x: line.x };
}

/**
 * Entries that point at pages: every number within the document's pages, and either a contents page's
 * (numbers never going back up the document) or an index's (labels in alphabetical order). A spec sheet's
 * or a price list's figures are seldom all of that.
 */
function navigation(entries: readonly ContentsEntry[], pageCount: number): boolean {
  const lastPage = pageCount * (1 + PAGE_NUMBER_SLACK);
  const numbers = entries.flatMap((entry) => entry.numbers);
  if (numbers.some((number) => number < 1 || number > lastPage)) return false;
  const pages = entries.map((entry) => entry.numbers[0] ?? 0);
  const contentsOrder = pages.every((page, i) => i === 0 || page >= (pages[i - 1] ?? 0));
  return contentsOrder || INDEX_ORDERS.some((order) => alphabetical(entries, order));
}

/**
 * Each label after the one before it at its indent: an index's sub-entries, indented, are in order under
 * their entry, starting afresh under the next.
 */
function alphabetical(entries: readonly ContentsEntry[], order: Intl.Collator): boolean {
  const lastAt = new Map<number, string>();
  return entries.every(({ label, x }) => {
    const indent = Math.round(x);
    for (const deeper of lastAt.keys()) if (deeper > indent) lastAt.delete(deeper);
    const previous = lastAt.get(indent);
    lastAt.set(indent, label);
    return previous === undefined || order.compare(previous, label) <= 0;
  });
}

/** On how many pages each text (digits aside) stands at the edge. */
function edgeCounts(edges: readonly PdfLine[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const keys of edges.map((lines) => new Set(lines.map(runningKey)))) {
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** "Chapter 2: Setup 14" and "Chapter 2: Setup 15" are one running header. */
function runningKey(line: PdfLine): string {
  return line.text.toLowerCase().replace(/\d+/g, "#");
}

// ---------------------------------------------------------------------------------------------------------
// Runs: the lines of one block, before rendering

type RunKind = "heading" | "code" | "list" | "paragraph";

interface Run {
  kind: RunKind;
  lines: PdfLine[];
  /** The page the run starts on, and the page it ends on. */
  page: number;
  lastPage: number;
}

/** A page's lines with the measures its text is read by. */
interface PageText {
  /** 1-based. */
  page: number;
  lines: readonly PdfLine[];
  /** The gap that ends a paragraph on this page. */
  breakGap: number;
  /**
   * Where the page's body text starts at the least: its left margin, the one indents are measured from. A
   * heading set out into the margin is left out, or it would shift this page's indents against the next's.
   */
  left: number;
  /** Where the page's lines end at the most: its right margin. */
  right: number;
}

function pageText(lines: readonly PdfLine[], i: number, bodySize: number): PageText {
  const body = lines.filter((line) => !larger(line, bodySize));
  return {
    page: i + 1,
    lines,
    breakGap: usualLineGap(lines) * PARAGRAPH_GAP_FACTOR,
    left: Math.min(...(body.length > 0 ? body : lines).map((line) => line.x)),
    right: Math.max(...lines.map((line) => line.right)),
  };
}

/** The lines as runs, in reading order: a run may go on from the foot of one page to the top of the next. */
function documentRuns(pages: readonly PageText[], bodySize: number, codeApart: boolean): Run[] {
  const runs: Run[] = [];
  pages.forEach((text, p) => {
    text.lines.forEach((line, i) => {
      const previous = text.lines[i - 1];
      const spacing = previous
        ? spacingOnPage(text, previous, line)
        : spacingAcrossPages(pages[p - 1], text, line);
      const kind = lineKind(line, bodySize, codeApart);
      const run = runs.at(-1);
      if (run && continues(run, line, kind, spacing)) {
        run.lines.push(line);
        run.lastPage = text.page;
      } else {
        runs.push({
          kind: kind === "item" ? "list" : kind,
          lines: [line],
          page: text.page,
          lastPage: text.page,
        });
      }
    });
  });
  return runs.map((run) =>
    run.kind === "heading" && !headingSized(run) ? { ...run, kind: "paragraph" } : run,
  );
}

function spacingOnPage(text: PageText, previous: PdfLine, line: PdfLine): Spacing {
  const gap = previous.y - line.y;
  // A negative gap means the text moved back up the page: a new column or a floating box.
  const newParagraph = gap > text.breakGap || gap < 0;
  return {
    gap,
    breakGap: text.breakGap,
    newParagraph,
    wrapped: wrapsOnto(previous, text, line),
    indent: line.x - previous.x,
  };
}

/**
 * How a page's first line follows the line at the foot of the page before. The gap that tells a paragraph
 * break within a page is lost at a page break, so the text is read as running on only where the last line
 * wrapped (and not at a sentence's end) and the first line goes on in the same size at the same indent: a
 * first-line indent, or other type, starts a block of its own.
 */
function spacingAcrossPages(before: PageText | undefined, text: PageText, line: PdfLine): Spacing {
  const previous = before?.lines.at(-1);
  const wrapped = before !== undefined && previous !== undefined && wrapsOnto(previous, before, line);
  // Each from its page's margin: facing pages' margins differ.
  const indent =
    before && previous ? line.x - text.left - (previous.x - before.left) : Number.POSITIVE_INFINITY;
  const runsOn =
    wrapped &&
    !SENTENCE_END.test(previous.text) &&
    sizeStep(previous.size) === sizeStep(line.size) &&
    Math.abs(indent) <= line.size * INDENT_SLACK;
  // Infinite: across a page break no heading, code block or list goes on but by a wrapped line's text.
  return { gap: Number.POSITIVE_INFINITY, breakGap: text.breakGap, newParagraph: !runsOn, wrapped, indent };
}

/**
 * Text wraps only from a line that ran to the right margin, or that stopped short of it mid-sentence only
 * because the next line's first word (a long name, a URL) would not fit in what was left: after a sentence's
 * end, a line that stops short ends its block, as a list item of one line does before a paragraph.
 */
function wrapsOnto(line: PdfLine, text: PageText, next: PdfLine): boolean {
  const room = text.right - line.right;
  if (room <= (text.right - line.x) * WRAP_SLACK) return true;
  if (SENTENCE_END.test(line.text)) return false;
  const charWidth = (next.right - next.x) / next.text.length;
  const word = next.text.split(" ", 1)[0] ?? "";
  // The word and the space before it.
  return (word.length + 1) * charWidth > room;
}

type LineKind = "heading" | "code" | "item" | "paragraph";

/** Set large enough to be a heading. */
function larger(line: PdfLine, bodySize: number): boolean {
  return line.size >= bodySize * HEADING_SIZE_FACTOR;
}

function lineKind(line: PdfLine, bodySize: number, codeApart: boolean): LineKind {
  if (larger(line, bodySize) && /\p{L}.*\p{L}/u.test(line.text) && !TOC_ENTRY.test(line.text)) {
    return "heading";
  }
  if (codeApart && line.code) return "code";
  return LIST_ITEM.test(line.text) ? "item" : "paragraph";
}

interface Spacing {
  /**
   * From the previous line's baseline down to this line's; negative when the text moved up the page,
   * infinite across a page break.
   */
  gap: number;
  /** The gap that ends a paragraph on this page. */
  breakGap: number;
  newParagraph: boolean;
  /** The previous line wrapped (`wrapsOnto`), so this one may carry on its text. */
  wrapped: boolean;
  /** How far right of the previous line this one starts, each from its page's margin. */
  indent: number;
}

function continues(run: Run, line: PdfLine, kind: LineKind, spacing: Spacing): boolean {
  const { gap, breakGap, newParagraph, wrapped } = spacing;
  const near = gap >= 0 && gap <= breakGap * NEAR_GAP_FACTOR;
  switch (run.kind) {
    case "heading":
      // Larger type is set with larger gaps than the body's.
      return (
        kind === "heading" &&
        sizeStep(line.size) === sizeStep(runSize(run)) &&
        gap >= 0 &&
        gap <= line.size * HEADING_LEADING
      );
    case "code":
      return kind === "code" && near;
    case "list":
      // The next item, or the item's text wrapping onto the next line.
      if (kind === "item") return near;
      return kind === "paragraph" && !newParagraph && wrapped && continuesItem(run, line);
    case "paragraph":
      return (
        !newParagraph && (kind === "paragraph" || (kind === "item" && markerIsProse(run, line, spacing)))
      );
  }
}

/**
 * Whether a line the list's last line wrapped onto carries its item's text: right of the item's marker, where
 * most lists hang an item's text, or under the marker in a list whose items wrap there. After items that
 * hang, a line back at the marker is the text after the list.
 */
function continuesItem(run: Run, line: PdfLine): boolean {
  let marker = run.lines[0];
  let hanging = false;
  for (const previous of run.lines) {
    if (LIST_ITEM.test(previous.text)) marker = previous;
    else hanging ||= rightOfMarker(previous, marker);
  }
  return rightOfMarker(line, marker) || !hanging;
}

function rightOfMarker(line: PdfLine, marker: PdfLine | undefined): boolean {
  return marker !== undefined && line.x > marker.x + line.size * INDENT_SLACK;
}

/**
 * A number may be the paragraph's own text, wrapped onto the line's start ("LEN must not be" "0. With this
 * …"): where the line before wrapped mid-sentence and this one is not set in from it. A list after a
 * paragraph follows a line that ends a sentence, introduces the list (":") or stops short, and opens at "1.";
 * a bullet or a dash is never prose.
 */
function markerIsProse(run: Run, line: PdfLine, { wrapped, indent }: Spacing): boolean {
  const previous = run.lines.at(-1)?.text ?? "";
  return (
    wrapped &&
    !SENTENCE_END.test(previous) &&
    !previous.endsWith(":") &&
    indent <= line.size * INDENT_SLACK &&
    /^(?:0|[2-9]|\d\d)[.)]$/.test(LIST_ITEM.exec(line.text)?.[2] ?? "")
  );
}

/** Larger text running long is a lead paragraph or a pull quote, not a heading. */
function headingSized(run: Run): boolean {
  return run.lines.length <= HEADING_MAX_LINES && sumChars(run.lines) <= HEADING_MAX_CHARS;
}

/**
 * Levels by size, largest first: the distinct sizes of the document's headings ranked, so a title over
 * chapters over sections becomes 1, 2, 3 whatever the points; beyond six, level 6.
 */
function headingLevels(runs: readonly Run[]): Map<number, number> {
  const sizes = new Set(runs.filter((run) => run.kind === "heading").map((run) => sizeStep(runSize(run))));
  const ranked = [...sizes].sort((a, b) => b - a);
  return new Map(ranked.map((size, i) => [size, Math.min(6, i + 1)]));
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

function renderRun(run: Run, levels: Map<number, number>): Block {
  const { page } = run;
  const pages = run.lastPage > page ? { page, pageEnd: run.lastPage } : { page };
  switch (run.kind) {
    case "heading": {
      const level = levels.get(sizeStep(runSize(run))) ?? 1;
      return { kind: "heading", level, text: run.lines.map((line) => line.text).join(" "), page };
    }
    case "code":
      return { kind: "code", text: fenceCode(codeText(run.lines)), ...pages };
    case "list":
      return { kind: "list", text: listText(run.lines), ...pages };
    case "paragraph":
      return { kind: "paragraph", text: joinLines(run.lines.map((line) => line.text)), ...pages };
  }
}

/**
 * Code as it was set: each piece at its column (its distance from the block's left edge in character
 * widths), so indentation and aligned columns survive.
 */
function codeText(lines: readonly PdfLine[]): string {
  const pieces = lines.flatMap((line) => line.code ?? []);
  const left = Math.min(...pieces.map((piece) => piece.x));
  const charWidth = median(pieces.map((piece) => piece.charWidth)) || 1;
  return lines
    .map((line) =>
      (line.code ?? []).reduce((text, piece) => {
        const column = Math.round((piece.x - left) / charWidth);
        return text.padEnd(column) + piece.str;
      }, ""),
    )
    .map((line) => line.trimEnd())
    .join("\n");
}

/** Items in Markdown, nested by how far right their bullets stand. */
function listText(lines: readonly PdfLine[]): string {
  const items: { x: number; marker: string; lines: string[] }[] = [];
  for (const line of lines) {
    const match = LIST_ITEM.exec(line.text);
    if (match) {
      const numbered = match[2] && /^\d/.test(match[2]);
      items.push({
        x: line.x,
        marker: numbered ? `${Number.parseInt(match[2] ?? "", 10)}.` : "-",
        lines: [match[3] ?? ""],
      });
    } else {
      items.at(-1)?.lines.push(line.text);
    }
  }
  const indents = [...new Set(items.map((item) => Math.round(item.x)))].sort((a, b) => a - b);
  return items
    .flatMap((item) => listItemLines(item.marker, joinLines(item.lines), indents.indexOf(Math.round(item.x))))
    .join("\n");
}

/**
 * Reflows a paragraph's lines, undoing the hyphenation a typesetter added at line ends ("exam-" "ple") and
 * the breaks it allows after an identifier's underscore ("ASN1_" "SYNTAX_ERROR"). A line whose dot leader
 * runs to a number is an entry of its own (a spec sheet's, a price list's): it keeps its line.
 */
function joinLines(lines: readonly string[]): string {
  return lines.reduce((text, line, i) => {
    if (!text) return line;
    if (TOC_ENTRY.test(line) || TOC_ENTRY.test(lines[i - 1] ?? "")) return `${text}\n${line}`;
    // Not after a run of underscores: "__init__" ends a word of its own.
    if (/[\p{L}\p{N}]_$/u.test(text) && /^[\p{L}\p{N}_]/u.test(line)) return text + line;
    if (!/\p{L}[-\u00AD]$/u.test(text)) return `${text} ${line}`;
    // Before a lower-case letter the hyphen was the typesetter's; before a capital ("Jean-" "Paul") it is
    // the word's own. A soft hyphen is always the typesetter's.
    const typesetterHyphen = text.endsWith("\u00AD") || /^\p{Ll}/u.test(line);
    return typesetterHyphen ? text.slice(0, -1) + line : text + line;
  }, "");
}

// ---------------------------------------------------------------------------------------------------------
// Measures

/**
 * The lower quartile of the gaps between consecutive lines: a paragraph's own line spacing, robust to the
 * wider gaps around headings, lists and paragraph breaks, which may be half a short page's gaps.
 */
function usualLineGap(lines: readonly PdfLine[]): number {
  const gaps = lines
    .slice(1)
    .map((line, i) => (lines[i]?.y ?? line.y) - line.y)
    .filter((gap) => gap > 0)
    .sort((a, b) => a - b);
  return gaps[Math.floor((gaps.length - 1) / 4)] ?? Number.POSITIVE_INFINITY;
}

function runSize(run: Run): number {
  return mostCommon(charsBy(run.lines, (line) => line.size));
}

function sizeStep(size: number): number {
  return Math.round(size / SIZE_STEP) * SIZE_STEP;
}

function charsBy(lines: readonly PdfLine[], key: (line: PdfLine) => number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of lines) counts.set(key(line), (counts.get(key(line)) ?? 0) + line.text.length);
  return counts;
}

function sumChars(lines: readonly PdfLine[]): number {
  return lines.reduce((sum, line) => sum + line.text.length, 0);
}

function mostCommon(counts: Map<number, number>): number {
  let best = 0;
  let bestCount = -1;
  for (const [value, count] of counts) {
    if (count > bestCount) [best, bestCount] = [value, count];
  }
  return best;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}
