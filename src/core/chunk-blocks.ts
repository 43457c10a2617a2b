import { type Block, type BlockKind, type BodyBlock, isUntitledSection } from "./blocks.js";
import { countO200kTokens, o200k, o200kPreTokens, PLAIN_TEXT } from "./tokens.js";

/**
 * Turns a document's blocks into heading-aware, token-sized chunks.
 *
 * The document is cut into top-level sections first (one per heading of the top-most level present), so a
 * chunk never mixes two of them. Inside a section, blocks become atoms — a whole block when it fits a chunk,
 * else its sentences (paragraphs) or lines (lists, code, tables) — and atoms are packed greedily into
 * chunks of at most `targetTokens`. Every chunk opens with the heading lines of where its content starts,
 * so it reads alone.
 *
 * Each piece of text is tokenized once, and a chunk's token count is summed exactly rather than re-counted
 * (see "Exact token arithmetic" below): the chunker runs at close to the tokenizer's own speed.
 */

export interface ChunkOptions {
  /** The most tokens (o200k) a chunk may have; chunks are packed up to it. */
  targetTokens: number;
  /** About how many trailing tokens of a chunk the next chunk of the same section repeats. */
  overlapTokens: number;
}

export const DEFAULT_CHUNK_OPTIONS: Readonly<ChunkOptions> = Object.freeze({
  targetTokens: 512,
  overlapTokens: 50,
});

export interface ChunkDraft {
  /** 0-based position of the chunk in the document. */
  index: number;
  text: string;
  /** Heading texts from the top-level section down to the section where the chunk's content starts. */
  headingPath: string[];
  /** Exact o200k token count of `text`. */
  tokenCount: number;
  pageStart?: number;
  pageEnd?: number;
}

export function chunkBlocks(blocks: Block[], options?: Partial<ChunkOptions>): ChunkDraft[] {
  const ctx = contextFrom(options);
  const chunks: ChunkDraft[] = [];
  for (const group of topLevelGroups(blocks, ctx)) {
    for (const draft of packGroup(group, ctx)) {
      chunks.push(renderDraft(draft, chunks.length, ctx));
    }
  }
  return chunks;
}

interface Context {
  target: number;
  overlap: number;
  /** Heading lines may take at most this much of a chunk, so deep or long headings leave room for content. */
  breadcrumbBudget: number;
  meter: TokenMeter;
}

function contextFrom(options: Partial<ChunkOptions> | undefined): Context {
  const target = options?.targetTokens ?? DEFAULT_CHUNK_OPTIONS.targetTokens;
  const overlap = options?.overlapTokens ?? DEFAULT_CHUNK_OPTIONS.overlapTokens;
  if (!Number.isInteger(target) || target < 32) {
    throw new RangeError(`targetTokens must be an integer of at least 32, got ${target}`);
  }
  if (!Number.isFinite(overlap) || overlap < 0 || overlap >= target / 2) {
    throw new RangeError(
      `overlapTokens must be at least 0 and below half of targetTokens (${target}), got ${overlap}`,
    );
  }
  return { target, overlap, breadcrumbBudget: Math.floor(target / 4), meter: new TokenMeter() };
}

// ---------------------------------------------------------------------------------------------------------
// Exact token arithmetic
//
// o200k first splits text into pre-tokens with a regular expression, then byte-pair-encodes each pre-token
// on its own, so count(a + b) = count(a) + count(b) whenever the cut between a and b is a pre-token boundary
// whatever surrounds it. Reading the o200k pattern, two kinds of cut are such "safe cuts", decided by the
// two characters around them alone:
//  - before a whitespace character that follows a non-whitespace one, except a line break that follows
//    punctuation (` ?[^\s\p{L}\p{N}]+[\r\n/]*` carries line breaks and slashes into a punctuation run);
//  - between a letter or digit and a following character that is none of whitespace, letter, digit,
//    combining mark or apostrophe (which may start a contraction such as "'s").
// So when text grows by a separator and a piece, only the stretch from the text's last safe cut (its tail)
// to the piece's first safe cut (its head) is tokenized again. Those corrections are memoised, as the same
// tails ("." ";" "```") and heads ("The") recur throughout a document.

const OTHER = 0;
const SPACE = 1;
const WORD = 2;
const MARK = 3;
type CharClass = typeof OTHER | typeof SPACE | typeof WORD | typeof MARK;

const SPACE_AT = /\s/y;
const WORD_AT = /[\p{L}\p{N}]/uy;
const MARK_AT = /\p{M}/uy;

/** Most text is ASCII: classify it by table, and leave the Unicode property tests to the rest. */
const ASCII_CLASSES = Uint8Array.from({ length: 128 }, (_, code) => {
  const char = String.fromCharCode(code);
  if (/\s/.test(char)) return SPACE;
  return /[\p{L}\p{N}]/u.test(char) ? WORD : OTHER;
});

function classAt(text: string, index: number): CharClass {
  const code = text.charCodeAt(index);
  if (code < 128) return ASCII_CLASSES[code] as CharClass;
  if (matchesAt(SPACE_AT, text, index)) return SPACE;
  if (matchesAt(WORD_AT, text, index)) return WORD;
  return matchesAt(MARK_AT, text, index) ? MARK : OTHER;
}

function matchesAt(pattern: RegExp, text: string, index: number): boolean {
  pattern.lastIndex = index;
  return pattern.test(text);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Index of the code point that ends just before `index`. */
function pointBefore(text: string, index: number): number {
  return index >= 2 && isLowSurrogate(text.charCodeAt(index - 1)) ? index - 2 : index - 1;
}

function isSafeCut(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (isLowSurrogate(code)) return false;
  const after = classAt(text, index);
  const before = classAt(text, pointBefore(text, index));
  if (after === SPACE) return before !== SPACE && ((code !== 10 && code !== 13) || before === WORD);
  return before === WORD && after === OTHER && code !== 39;
}

function firstSafeCut(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (isSafeCut(text, i)) return i;
  }
  return text.length;
}

function lastSafeCut(text: string): number {
  for (let i = text.length - 1; i > 0; i--) {
    if (isSafeCut(text, i)) return i;
  }
  return 0;
}

function endsWithWord(text: string): boolean {
  return text.length > 0 && classAt(text, pointBefore(text, text.length)) === WORD;
}

/** A piece of text counted once, with the stretches a join may tokenize again. */
interface Measured {
  text: string;
  tokens: number;
  /** Up to the first safe cut (the whole text when it has none). */
  head: string;
  /** From the last safe cut; undefined when the text has no safe cut. */
  tail: string | undefined;
}

class TokenMeter {
  /** Join corrections, memoised by what they depend on: the piece's head after a space, the line breaks
   * after a word, or else the tail, separator and head together. */
  private readonly afterSpace = new Map<string, number>();
  private readonly lineBreaks = new Map<string, number>();
  private readonly joins = new Map<string, number>();

  count(text: string): number {
    return countO200kTokens(text);
  }

  measure(text: string): Measured {
    return this.measureCounted(text, this.count(text));
  }

  /** For text whose exact count is already known, e.g. summed from its parts. */
  measureCounted(text: string, tokens: number): Measured {
    const cut = firstSafeCut(text);
    const tail = cut < text.length ? text.slice(lastSafeCut(text)) : undefined;
    return { text, tokens, head: text.slice(0, cut), tail };
  }

  /** The tokens that `tail` + `sep` + `piece` has beyond count(tail) + count(piece). */
  joinCost(tail: string, sep: string, piece: Measured): number {
    if (sep === " ") {
      // A space after non-whitespace is a safe cut: only the piece's first pre-token changes.
      const head = piece.head;
      return memo(this.afterSpace, head, () => this.count(` ${head}`) - this.count(head));
    }
    if (sep !== "" && endsWithWord(tail)) {
      // A line break after a letter or digit is a safe cut, and no pre-token runs from a line break into
      // text, so the line breaks are a pre-token of their own.
      return memo(this.lineBreaks, sep, () => this.count(sep));
    }
    const head = sep === "" || piece.text.startsWith("/") ? piece.head : "";
    return memo(this.joins, `${tail}\u0000${sep}\u0000${head}`, () => {
      return this.count(tail + sep + head) - this.count(tail) - this.count(head);
    });
  }
}

function memo(cache: Map<string, number>, key: string, compute: () => number): number {
  let value = cache.get(key);
  if (value === undefined) {
    value = compute();
    cache.set(key, value);
  }
  return value;
}

/**
 * The exact token count of text being built, and what the next join needs: the tail of the text so far and
 * the open segment, whose closing fence is not written yet.
 */
interface Tally {
  started: boolean;
  tokens: number;
  tail: string;
  open: Segment | undefined;
}

const EMPTY_TALLY: Tally = { started: false, tokens: 0, tail: "", open: undefined };

function startTally(section: Section, ctx: Context): Tally {
  const breadcrumb = breadcrumbOf(section, ctx);
  if (!breadcrumb.text) return EMPTY_TALLY;
  return {
    started: true,
    tokens: breadcrumb.tokens,
    tail: breadcrumb.tail ?? breadcrumb.text,
    open: undefined,
  };
}

/** Mirrors `renderSegments`: segments apart by a blank line, a fenced segment's lines inside its fence. */
function addAtom(tally: Tally, atom: Atom, ctx: Context): Tally {
  if (tally.open === atom.segment) return extend(tally, atom, atom.sep, atom.segment, ctx);
  let next = tally;
  const { prefix } = atom.segment;
  if (tally.open?.suffix) next = extend(next, tally.open.suffix, "\n", undefined, ctx);
  if (prefix) next = extend(next, prefix, "\n\n", atom.segment, ctx);
  return extend(next, atom, prefix ? "\n" : "\n\n", atom.segment, ctx);
}

function extend(tally: Tally, piece: Measured, sep: string, open: Segment | undefined, ctx: Context): Tally {
  if (!tally.started) return { started: true, tokens: piece.tokens, tail: piece.tail ?? piece.text, open };
  const tokens = tally.tokens + ctx.meter.joinCost(tally.tail, sep, piece) + piece.tokens;
  return { started: true, tokens, tail: piece.tail ?? tailAcross(tally.tail, sep, piece.text), open };
}

/** A piece without a safe cut of its own extends the tail back across the join. */
function tailAcross(tail: string, sep: string, text: string): string {
  const joined = tail + sep + text;
  return joined.slice(lastSafeCut(joined));
}

function tallyAfter(tally: Tally, atoms: Atom[], ctx: Context): Tally {
  let next = tally;
  for (const atom of atoms) next = addAtom(next, atom, ctx);
  return next;
}

function totalTokens(tally: Tally, ctx: Context): number {
  const suffix = tally.open?.suffix;
  return suffix ? tally.tokens + ctx.meter.joinCost(tally.tail, "\n", suffix) + suffix.tokens : tally.tokens;
}

// ---------------------------------------------------------------------------------------------------------
// Sections and units

/** The heading context of a stretch of content, shared by every atom under the same heading. */
interface Section {
  path: string[];
  /** Rendered heading lines ("## Install") from the top down, each counted once. */
  lines: Measured[];
  breadcrumb?: Measured;
}

/** How (part of) one block renders in a chunk: a split code block keeps its fence, a table its header. */
interface Segment {
  kind: BlockKind;
  prefix?: Measured;
  suffix?: Measured;
}

interface Atom extends Measured {
  /** What joins this atom to the previous atom of the same segment: " ", "" or line breaks. */
  sep: string;
  segment: Segment;
  section: Section;
  page: number | undefined;
  /** The block's last page, when it runs on past `page`: any of its pieces may be on either. */
  pageEnd?: number;
  /** A fenced code block inside a list item (or one of its lines): not cut by sentence, nor repeated. */
  code?: boolean;
}

/** What the packer places as a whole: a heading, a block that fits, or one piece of a block that does not. */
interface Unit {
  atoms: Atom[];
  tokens: number;
  /** For a heading: about how many tokens of content sit directly under it. */
  sectionTokens?: number;
}

/** One top-level section at a time, so a large document's atoms need not all be in memory at once. */
function* topLevelGroups(blocks: Block[], ctx: Context): Generator<Unit[]> {
  const top = topHeadingLevel(blocks);
  let group: Unit[] = [];
  const stack: { level: number; section: Section }[] = [];
  let section: Section = { path: [], lines: [] };
  // The section of the last heading while nothing has come under it yet (nor under its parents since).
  let bare: Section | undefined;
  for (const block of blocks) {
    if (block.kind !== "heading") {
      for (const unit of bodyUnits(block, section, ctx)) group.push(unit);
      bare = undefined;
      continue;
    }
    const level = headingLevel(block.level);
    while ((stack.at(-1)?.level ?? 0) >= level) stack.pop();
    const untitled = isUntitledSection(block);
    const parent = stack.at(-1)?.section;
    // Headings closed with nothing under them (a document's title and subtitle before its first section, a
    // DOCX Title before a Heading 1) have no chunk of their own: their lines open the next section's chunks
    // instead, their words kept where they were, though not in the heading path. The bare section's lines
    // start with the parent's, as the parent is one of its own: those after them are the ones closed.
    const carried = bare?.lines.slice(parent?.lines.length ?? 0) ?? [];
    if (untitled) {
      // A section without a title (a JSON record's) is its parent's. It begins a record: nothing is carried
      // into it, as another record's title would label its text.
      section = parent ?? { path: [], lines: [] };
      bare = undefined;
    } else {
      section = childSection(parent, block.text.replace(/\s+/g, " ").trim(), level, ctx, carried);
      stack.push({ level, section });
      bare = section;
    }
    if (level <= top && group.length > 0) {
      yield measureHeadingSections(group);
      group = [];
    }
    if (!untitled) group.push(headingUnit(section, block.page));
  }
  if (group.length > 0) yield measureHeadingSections(group);
}

/** A loop, not Math.min(...levels): a large document can have more headings than a call has arguments. */
/** The top level among the blocks' titled headings; infinite when they have none. */
export function topHeadingLevel(blocks: Block[]): number {
  let top = Number.POSITIVE_INFINITY;
  for (const block of blocks) {
    if (block.kind === "heading" && block.text.trim()) top = Math.min(top, headingLevel(block.level));
  }
  return top;
}

function headingLevel(level: number): number {
  return Math.min(6, Math.max(1, Math.round(level) || 1));
}

function childSection(
  parent: Section | undefined,
  text: string,
  level: number,
  ctx: Context,
  carried: readonly Measured[],
): Section {
  return {
    path: [...(parent?.path ?? []), text],
    lines: [...(parent?.lines ?? []), ...carried, ctx.meter.measure(`${"#".repeat(level)} ${text}`)],
  };
}

function headingUnit(section: Section, page: number | undefined): Unit {
  const line = section.lines.at(-1) as Measured;
  const atom: Atom = { ...line, sep: "", segment: { kind: "heading" }, section, page };
  return { atoms: [atom], tokens: atom.tokens };
}

function measureHeadingSections(units: Unit[]): Unit[] {
  let below = 0;
  for (let i = units.length - 1; i >= 0; i--) {
    const unit = units[i] as Unit;
    if (isHeading(unit.atoms[0])) {
      unit.sectionTokens = below;
      below = 0;
    } else {
      below += unit.tokens + 1;
    }
  }
  return units;
}

function isHeading(atom: Atom | undefined): boolean {
  return atom?.segment.kind === "heading";
}

/** The heading lines a chunk starting in `section` opens with, dropped from the top to fit the budget. */
function breadcrumbOf(section: Section, ctx: Context): Measured {
  if (section.breadcrumb) return section.breadcrumb;
  let kept: string[] = [];
  let estimate = 0;
  for (let i = section.lines.length - 1; i >= 0; i--) {
    const line = section.lines[i] as Measured;
    if (estimate + line.tokens + 1 > ctx.breadcrumbBudget) break;
    kept.unshift(line.text);
    estimate += line.tokens + 1;
  }
  const nearest = section.lines.at(-1);
  if (kept.length === 0 && nearest) kept = tokenWindows(nearest.text, ctx.breadcrumbBudget).slice(0, 1);
  section.breadcrumb = ctx.meter.measure(kept.join("\n").trim());
  return section.breadcrumb;
}

// ---------------------------------------------------------------------------------------------------------
// Body blocks → units

interface Placement {
  section: Section;
  page: number | undefined;
  pageEnd?: number;
  /** The tokens a block may take and still fit a chunk beside its breadcrumb. */
  room: number;
}

/**
 * Most blocks fit a chunk and are counted whole, in one call. A block long enough to be likely too big is
 * counted piece by piece instead, still once each.
 */
function bodyUnits(block: BodyBlock, section: Section, ctx: Context): Unit[] {
  const text = block.text.replace(/\r\n?/g, "\n");
  const trimmed = block.kind === "code" ? text.replace(/^\s*\n/, "").trimEnd() : text.trim();
  if (!trimmed) return [];
  const room = ctx.target - breadcrumbOf(section, ctx).tokens - 2;
  const place: Placement = { section, page: block.page, pageEnd: block.pageEnd, room };
  if (trimmed.length <= room * 3) {
    const whole = atomOf({ text: trimmed, sep: "" }, { kind: block.kind }, place, ctx);
    if (whole.tokens <= room) return [{ atoms: [whole], tokens: whole.tokens }];
  }
  return piecewiseUnits(block.kind, trimmed, place, ctx);
}

/**
 * Counts a block by its sentences (paragraphs) or lines (the rest); the exact sum says whether it fits a
 * chunk after all, and if not, the pieces are already counted for packing.
 */
function piecewiseUnits(kind: BodyBlock["kind"], text: string, place: Placement, ctx: Context): Unit[] {
  const segment: Segment = { kind };
  const pieces =
    kind === "paragraph" ? splitSentences(text) : kind === "list" ? listItems(text) : splitLines(text);
  const atoms = pieces.map((piece) => atomOf(piece, segment, place, ctx));
  const tokens = totalTokens(tallyAfter(EMPTY_TALLY, atoms, ctx), ctx);
  if (tokens <= place.room) {
    const whole = placed(ctx.meter.measureCounted(renderSegments(atoms), tokens), "", segment, place);
    return [{ atoms: [whole], tokens }];
  }
  if (kind === "code" || kind === "table") return framedUnits(kind, atoms, place, ctx);
  return pieceUnits(atoms, place.room, ctx);
}

function atomOf(piece: Piece, segment: Segment, place: Omit<Placement, "room">, ctx: Context): Atom {
  const atom = placed(ctx.meter.measure(piece.text), piece.sep, segment, place);
  return piece.code ? { ...atom, code: true } : atom;
}

/** Measured text as an atom of its block, where the block sits. */
function placed(measured: Measured, sep: string, segment: Segment, place: Omit<Placement, "room">): Atom {
  const { section, page, pageEnd } = place;
  return { ...measured, sep, segment, section, page, pageEnd };
}

/** The pieces of a block too big to keep whole, each its own unit and each under the limit. */
function pieceUnits(atoms: Atom[], room: number, ctx: Context): Unit[] {
  const segment = atoms[0]?.segment;
  const decoration = (segment?.prefix?.tokens ?? 0) + (segment?.suffix?.tokens ?? 0);
  const capacity = Math.max(8, room - decoration - 4);
  const units: Unit[] = [];
  for (const atom of atoms) {
    for (const part of splitAtom(atom, capacity, ctx)) units.push({ atoms: [part], tokens: part.tokens });
  }
  return units;
}

/**
 * A piece of a list bigger than a chunk is cut finer (`finerPieces`). A sentence or line still too big is cut
 * by tokens, the last resort. Text that overlaps leaves room in each window for the end of the one before, as
 * the next chunk opens with it.
 */
function splitAtom(atom: Atom, capacity: number, ctx: Context): Atom[] {
  if (atom.tokens <= capacity) return [atom];
  const finer = atom.segment.kind === "list" ? finerPieces(atom) : [];
  if (finer.length > 1) {
    return finer.flatMap((piece) => splitAtom(atomOf(piece, atom.segment, atom, ctx), capacity, ctx));
  }
  const overlaps = !atom.code && (atom.segment.kind === "paragraph" || atom.segment.kind === "list");
  const size = overlaps ? Math.max(8, capacity - ctx.overlap) : capacity;
  const parts: Atom[] = [];
  let spaceBefore = false;
  for (const window of tokenWindows(atom.text, size)) {
    // The first part keeps the indentation of a code line; later parts start at a word.
    const text = parts.length === 0 ? window.trimEnd() : window.trim();
    if (text) {
      const sep = parts.length === 0 ? atom.sep : spaceBefore || text !== window.trimEnd() ? " " : "";
      parts.push({ ...atom, ...ctx.meter.measure(text), sep });
    }
    spaceBefore = window !== window.trimEnd() || (spaceBefore && !text);
  }
  return parts;
}

/**
 * A code block or table too big for a chunk is cut between lines, each part re-fenced (code) or under a
 * repeated header row (table) so it stays valid Markdown on its own.
 */
function framedUnits(kind: "code" | "table", lines: Atom[], place: Placement, ctx: Context): Unit[] {
  const frame = kind === "code" ? codeFrame(lines) : tableFrame(lines, ctx);
  const decoration = (frame?.prefix.tokens ?? 0) + (frame?.suffix?.tokens ?? 0);
  // A frame that would take over half of each part is not repeated: the content would be crowded out. Up
  // to that it is, a wide table's header included: rows without it are cells nobody can read.
  if (!frame || decoration > place.room / 2) return pieceUnits(lines, place.room, ctx);
  const segment: Segment = { kind, prefix: frame.prefix, suffix: frame.suffix };
  return pieceUnits(
    frame.body.map((line) => ({ ...line, segment })),
    place.room,
    ctx,
  );
}

interface Frame {
  prefix: Measured;
  suffix?: Measured;
  body: Atom[];
}

function codeFrame(lines: Atom[]): Frame | undefined {
  const first = lines[0];
  const last = lines.at(-1);
  const fence = /^\s*(`{3,}|~{3,})/.exec(first?.text ?? "")?.[1];
  if (!first || !last || lines.length < 3 || fence === undefined) return undefined;
  if (!/^\s*(`+|~+)$/.test(last.text) || !last.text.trim().startsWith(fence)) return undefined;
  return { prefix: first, suffix: last, body: lines.slice(1, -1) };
}

const TABLE_DELIMITER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

function tableFrame(lines: Atom[], ctx: Context): Frame | undefined {
  const [header, delimiter] = lines;
  if (!header || !delimiter || lines.length < 3 || !TABLE_DELIMITER.test(delimiter.text)) return undefined;
  const tokens = totalTokens(tallyAfter(EMPTY_TALLY, [header, delimiter], ctx), ctx);
  return {
    prefix: ctx.meter.measureCounted(renderSegments([header, delimiter]), tokens),
    body: lines.slice(2),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Cutting text into pieces

interface Piece {
  text: string;
  sep: string;
  code?: boolean;
}

/**
 * Sentence ends (terminal punctuation, optional closing quote, then a space and a capital, digit or opening
 * quote), CJK full stops, and line breaks. Abbreviations such as "e.g. the" are not cut, as a lowercase word
 * follows; the rare "Dr. Smith" cut only moves a possible chunk boundary.
 */
const SENTENCE_BOUNDARY =
  /[^\S\n]*\n\s*|(?<=[.!?…]["'”’)\]]*)[^\S\n]+(?=["'“‘([]?[\p{Lu}\p{N}])|(?<=[。！？])(?=\S)/gu;

function splitSentences(text: string): Piece[] {
  const pieces: Piece[] = [];
  let start = 0;
  let sep = "";
  for (const match of text.matchAll(SENTENCE_BOUNDARY)) {
    if (match.index > start) pieces.push({ text: text.slice(start, match.index), sep });
    const breaks = match[0].split("\n").length - 1;
    sep = breaks > 0 ? "\n".repeat(Math.min(breaks, 2)) : match[0] === "" ? "" : " ";
    start = match.index + match[0].length;
  }
  if (start < text.length) pieces.push({ text: text.slice(start), sep });
  return pieces;
}

/**
 * A list's items, each with its lines below it (its text, code and sub-lists), to be kept whole where they
 * fit as a paragraph is: an item is a line at the list's indentation that opens with a marker.
 */
function listItems(text: string): Piece[] {
  const items: Piece[] = [];
  const lines = splitLines(text);
  const indent = indentation(lines[0]?.text ?? "");
  for (const line of lines) {
    const item = items.at(-1);
    if (item && !(indentation(line.text) <= indent && LIST_MARKER.test(line.text))) {
      item.text += line.sep + line.text;
    } else {
      items.push(line);
    }
  }
  return items;
}

function indentation(line: string): number {
  return line.length - line.trimStart().length;
}

/**
 * A piece of a list cut one step finer: an item into its lines and code blocks, a code block into its lines,
 * a line into its sentences, as a paragraph is.
 */
function finerPieces(piece: Piece): Piece[] {
  if (piece.code) return codeLines(piece);
  return piece.text.includes("\n") ? listPieces(piece) : lineSentences(piece);
}

/**
 * The lines of a piece of a list, a fenced code block among them one piece: kept whole where it fits, as a
 * code block outside a list is, and neither cut between sentences nor repeated as overlap as the list's
 * lines are.
 */
function listPieces(piece: Piece): Piece[] {
  const pieces: Piece[] = [];
  let fence: string | undefined;
  for (const line of splitLines(piece.text)) {
    const open = pieces.at(-1);
    if (fence !== undefined && open) {
      open.text += line.sep + line.text;
      if (line.text.trim().startsWith(fence) && /^\s*(`+|~+)$/.test(line.text)) fence = undefined;
      continue;
    }
    fence = /^\s*(`{3,}|~{3,})/.exec(line.text)?.[1];
    const sep = pieces.length === 0 ? piece.sep : line.sep;
    pieces.push(fence === undefined ? { text: line.text, sep } : { text: line.text, sep, code: true });
  }
  return pieces;
}

/** A code block's lines, the first joined as the block was. */
function codeLines(piece: Piece): Piece[] {
  return splitLines(piece.text).map((line, i) => ({
    ...line,
    sep: i === 0 ? piece.sep : line.sep,
    code: true,
  }));
}

/** A list item's marker ("- ", "12. "), whose full stop is no sentence's end. */
const LIST_MARKER = /^\s*(?:[-*+•]|\d{1,9}[.)])\s+/;

/** A list line's sentences, the first keeping the line's indentation, marker and separator. */
function lineSentences(piece: Piece): Piece[] {
  const marker = LIST_MARKER.exec(piece.text)?.[0] ?? "";
  const sentences = splitSentences(piece.text.slice(marker.length));
  const first = sentences[0];
  if (first) sentences[0] = { text: marker + first.text, sep: piece.sep };
  return sentences;
}

/** Lines without trailing spaces; blank lines are kept as extra line breaks in the next line's separator. */
function splitLines(text: string): Piece[] {
  const pieces: Piece[] = [];
  let blanks = 0;
  for (const line of text.split("\n")) {
    const trimmed = line.trimEnd();
    if (trimmed === "") {
      blanks++;
      continue;
    }
    pieces.push({ text: trimmed, sep: "\n".repeat(pieces.length === 0 ? 1 : blanks + 1) });
    blanks = 0;
  }
  return pieces;
}

/**
 * Cuts `text` into consecutive pieces of at most `max` tokens that concatenate back to `text`, each cut
 * between two of o200k's pre-tokens (mostly at a word's start), so that the pieces' counts add up as the
 * text's do. A pre-token longer than a piece, as a run of Chinese characters without punctuation can be,
 * is cut between characters (`cutByCount`). Not by decoding token ids back to text: gpt-tokenizer's decoder
 * keeps the bytes of a character split between two tokens for its next call, so a window ending inside
 * one (rare Chinese characters and Hangul take two or three tokens each) made every later window mismatch,
 * and the rest of a 70,000-character line became one chunk of 132,000 tokens.
 */
function tokenWindows(text: string, max: number): string[] {
  const pieces: string[] = [];
  let piece = "";
  let tokens = 0;
  for (const part of o200kPreTokens(text)) {
    const count = countO200kTokens(part);
    if (tokens + count <= max) {
      piece += part;
      tokens += count;
      continue;
    }
    if (piece) pieces.push(piece);
    const cut = count <= max ? [part] : cutByCount(part, max);
    pieces.push(...cut.slice(0, -1));
    piece = cut.at(-1) ?? "";
    tokens = countO200kTokens(piece);
  }
  if (piece) pieces.push(piece);
  return pieces;
}

/**
 * `text` cut between characters into pieces of at most `max` tokens, each as long as it can be: found by
 * counting, as a token count grows with the text (bar a merge now and then).
 */
function cutByCount(text: string, max: number): string[] {
  const pieces: string[] = [];
  const codePointEdge = (end: number) => (isLowSurrogate(text.charCodeAt(end)) ? end - 1 : end);
  let start = 0;
  while (start < text.length) {
    const fits = (end: number) => o200k().countTokens(text.slice(start, end), PLAIN_TEXT) <= max;
    // A code point always fits: four bytes are at most four tokens.
    let fitting = codePointEdge(start + 1) === start ? start + 2 : start + 1;
    let over = text.length + 1;
    // From `max` characters on, doubling while it fits: only a piece's worth of text is counted each time.
    for (let end = start + max; fitting < text.length; end = start + (end - start) * 2) {
      const probe = codePointEdge(Math.min(text.length, end));
      if (!fits(probe)) {
        over = probe;
        break;
      }
      fitting = probe;
    }
    while (over - fitting > 1) {
      const middle = codePointEdge(Math.min(text.length, fitting + Math.floor((over - fitting) / 2)));
      if (middle <= fitting) break;
      if (fits(middle)) fitting = middle;
      else over = middle;
    }
    pieces.push(text.slice(start, fitting));
    start = fitting;
  }
  return pieces;
}

/**
 * The end of `text` of at most `max` tokens, starting between two pre-tokens (mostly at a word), or inside
 * the last one when it alone is over `max`. Not by decoding token ids: see `tokenWindows`.
 */
function tokenTail(text: string, max: number): string {
  const parts = o200kPreTokens(text);
  let start = parts.length;
  for (let tokens = 0; start > 0; start--) {
    tokens += countO200kTokens(parts[start - 1] as string);
    if (tokens > max) break;
  }
  const tail = start === parts.length ? lastByCount(parts.at(-1) ?? "", max) : parts.slice(start).join("");
  return tail.trim();
}

/** The longest end of `text` of at most `max` tokens, found by halving, as a count grows with the text. */
function lastByCount(text: string, max: number): string {
  const fits = (start: number) => o200k().countTokens(text.slice(start), PLAIN_TEXT) <= max;
  const codePointEdge = (start: number) => (isLowSurrogate(text.charCodeAt(start)) ? start + 1 : start);
  let over = -1;
  let fitting = text.length;
  while (fitting - over > 1) {
    const middle = codePointEdge(over + Math.ceil((fitting - over) / 2));
    if (middle >= fitting) break;
    if (fits(middle)) fitting = middle;
    else over = middle;
  }
  return text.slice(fitting);
}

// ---------------------------------------------------------------------------------------------------------
// Packing units into chunks

interface Draft {
  /** The atoms rendered, in order; the headings above the first one are in the breadcrumb instead. */
  atoms: Atom[];
  tally: Tally;
  /** Headings met after content, rendered only if content under them joins this chunk. */
  pending: Atom[];
}

function packGroup(units: Unit[], ctx: Context): Draft[] {
  const drafts: Draft[] = [];
  let draft: Draft | undefined;
  for (const unit of units) {
    if (isHeading(unit.atoms[0])) {
      if (draft && startsNewChunk(draft, unit, ctx)) {
        drafts.push(draft);
        draft = undefined;
      }
      draft?.pending.push(...unit.atoms);
    } else if (!draft) {
      draft = newDraft(unit.atoms, ctx);
    } else if (!tryAppend(draft, unit, ctx)) {
      drafts.push(draft);
      draft = draft.pending.length > 0 ? newDraft(unit.atoms, ctx) : overlappingDraft(draft, unit, ctx);
    }
  }
  if (draft) drafts.push(draft);
  return drafts;
}

function newDraft(atoms: Atom[], ctx: Context): Draft {
  const first = atoms[0] as Atom;
  return { atoms: [...atoms], tally: tallyAfter(startTally(first.section, ctx), atoms, ctx), pending: [] };
}

/** A new draft for `unit`, opened with the overlap from `previous` as far as it fits beside the unit. */
function overlappingDraft(previous: Draft, unit: Unit, ctx: Context): Draft {
  const overlap = overlapFor(previous, unit, ctx);
  for (let skip = 0; skip < overlap.length; skip++) {
    const draft = newDraft([...overlap.slice(skip), ...unit.atoms], ctx);
    if (totalTokens(draft.tally, ctx) <= ctx.target) return draft;
  }
  return newDraft(unit.atoms, ctx);
}

function tryAppend(draft: Draft, unit: Unit, ctx: Context): boolean {
  const atoms = draft.pending.length > 0 ? [...draft.pending, ...unit.atoms] : unit.atoms;
  const tally = tallyAfter(draft.tally, atoms, ctx);
  if (totalTokens(tally, ctx) > ctx.target) return false;
  for (const atom of atoms) draft.atoms.push(atom);
  draft.tally = tally;
  draft.pending = [];
  return true;
}

/**
 * A subsection starts a fresh chunk when the current one is already half full and the subsection would not
 * fit in what is left: better two coherent chunks than one that ends a few lines into a new topic.
 */
function startsNewChunk(draft: Draft, heading: Unit, ctx: Context): boolean {
  const tokens = draft.tally.tokens;
  if (tokens < ctx.target / 2) return false;
  return tokens + 2 + heading.tokens + (heading.sectionTokens ?? 0) > ctx.target;
}

/**
 * The trailing sentences (or list lines) of `previous` to repeat at the start of the next chunk, so a
 * thought cut at a chunk boundary is still whole in one of them. Code and tables are not repeated: a few
 * stray lines of them carry little meaning. The overlap shrinks when the next unit leaves less room.
 */
function overlapFor(previous: Draft, next: Unit, ctx: Context): Atom[] {
  const first = next.atoms[0] as Atom;
  const alone = totalTokens(tallyAfter(startTally(first.section, ctx), next.atoms, ctx), ctx);
  const budget = Math.min(ctx.overlap, ctx.target - alone - 4);
  const taken: Atom[] = [];
  let tokens = 0;
  for (let i = previous.atoms.length - 1; i >= 0 && tokens < budget; i--) {
    const atom = previous.atoms[i] as Atom;
    if (atom.code || (atom.segment.kind !== "paragraph" && atom.segment.kind !== "list")) break;
    const join = taken.length > 0 ? 1 : 0;
    if (tokens + atom.tokens + join <= budget) {
      taken.unshift(atom);
      tokens += atom.tokens + join;
      continue;
    }
    taken.unshift(...trailingPieces(atom, budget - tokens - join, taken.length === 0, ctx));
    break;
  }
  return taken;
}

/**
 * The last sentences of `atom` within `budget`, counted from the end one at a time as only a few are
 * needed, up to code in a list. When not even one fits and nothing else was taken, the last `budget` tokens
 * instead.
 */
function trailingPieces(atom: Atom, budget: number, orTail: boolean, ctx: Context): Atom[] {
  const pieces =
    atom.segment.kind === "paragraph"
      ? splitSentences(atom.text)
      : listPieces(atom).flatMap((piece) => (piece.code ? [piece] : lineSentences(piece)));
  const taken: Atom[] = [];
  let tokens = 0;
  for (let i = pieces.length - 1; i >= 0; i--) {
    const piece = pieces[i] as Piece;
    if (piece.code) break;
    // Fewer than one token per 8 characters is rare: no need to count a piece that long to reject it.
    if (piece.text.length > (budget - tokens) * 8) break;
    const candidate = atomOf(piece, atom.segment, atom, ctx);
    const join = taken.length > 0 ? 1 : 0;
    if (tokens + candidate.tokens + join > budget) break;
    taken.unshift(candidate);
    tokens += candidate.tokens + join;
  }
  if (taken.length > 0 || !orTail || budget < 8 || pieces.at(-1)?.code) return taken;
  const tail = tokenTail(pieces.at(-1)?.text ?? "", budget - 2);
  return tail ? [atomOf({ text: tail, sep: "" }, atom.segment, atom, ctx)] : [];
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

function renderDraft(draft: Draft, index: number, ctx: Context): ChunkDraft {
  const first = draft.atoms[0] as Atom;
  const breadcrumb = breadcrumbOf(first.section, ctx).text;
  const body = renderSegments(draft.atoms);
  return {
    index,
    text: breadcrumb ? `${breadcrumb}\n\n${body}` : body,
    headingPath: [...first.section.path],
    tokenCount: totalTokens(draft.tally, ctx),
    ...pageRange(draft.atoms),
  };
}

function renderSegments(atoms: Atom[]): string {
  const parts: string[] = [];
  let segment: Segment | undefined;
  let buffer = "";
  const close = (open: Segment) => {
    const opened = open.prefix ? `${open.prefix.text}\n${buffer}` : buffer;
    parts.push(open.suffix ? `${opened}\n${open.suffix.text}` : opened);
  };
  for (const atom of atoms) {
    if (atom.segment === segment) {
      buffer += atom.sep + atom.text;
      continue;
    }
    if (segment) close(segment);
    segment = atom.segment;
    buffer = atom.text;
  }
  if (segment) close(segment);
  return parts.join("\n\n");
}

function pageRange(atoms: Atom[]): { pageStart?: number; pageEnd?: number } {
  let pageStart: number | undefined;
  let pageEnd: number | undefined;
  for (const atom of atoms) {
    if (atom.page === undefined) continue;
    pageStart = Math.min(pageStart ?? atom.page, atom.page);
    pageEnd = Math.max(pageEnd ?? atom.page, atom.pageEnd ?? atom.page);
  }
  return pageStart === undefined ? {} : { pageStart, pageEnd };
}
