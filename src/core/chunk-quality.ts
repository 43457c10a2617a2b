/**
 * A chunk's fitness as source material for training pairs, in [0, 1], from four factors (the seed's):
 * length, vocabulary diversity, structure and sentence coherence. Each factor is its own function so it can
 * be tested and explained alone; every one is a few linear passes over the text, cheap enough to run on
 * every chunk of a large ingest.
 */

import { isUnspacedLetter } from "./unspaced-scripts.js";

export interface ChunkQuality {
  score: number;
  breakdown: { length: number; vocabulary: number; structure: number; coherence: number };
}

/**
 * How much each factor counts. Coherence weighs most: garbled text (OCR noise, navigation debris, symbol
 * soup) is what most often yields useless pairs, and it can look diverse word by word. Length comes next,
 * as a chunk with too little text gives nothing to ask about; then vocabulary, which catches repetition.
 * Structure weighs least: plain prose can be excellent material, structure only helps find questions.
 */
export const QUALITY_WEIGHTS: Readonly<Record<keyof ChunkQuality["breakdown"], number>> = Object.freeze({
  length: 0.25,
  vocabulary: 0.2,
  structure: 0.15,
  coherence: 0.4,
});

/** The weighted mean of the four factors (each rounded to 3 decimals), rounded to 3 decimals. */
export function scoreChunkQuality(text: string, tokenCount: number): ChunkQuality {
  const breakdown = {
    length: round3(lengthScore(tokenCount)),
    vocabulary: round3(vocabularyScore(text)),
    structure: round3(structureScore(text)),
    coherence: round3(coherenceScore(text)),
  };
  const weighted =
    breakdown.length * QUALITY_WEIGHTS.length +
    breakdown.vocabulary * QUALITY_WEIGHTS.vocabulary +
    breakdown.structure * QUALITY_WEIGHTS.structure +
    breakdown.coherence * QUALITY_WEIGHTS.coherence;
  return { score: round3(weighted), breakdown };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

// ---------------------------------------------------------------------------------------------------------
// Length

const SHORT_TOKENS = 100;
const LONG_TOKENS = 600;
const TOO_LONG_TOKENS = 1000;
/** The score at TOO_LONG_TOKENS, where the linear decline gives way to a steep one. */
const LONG_FLOOR = 0.4;

/**
 * Whether the chunk holds a useful amount of text: enough for a question and a grounded answer, not so much
 * that a pair covers only a sliver of it. 1 on a plateau of 100–600 tokens; below, it rises as a curve
 * (about 0.35 at 50 tokens, 0.1 at 20); above, it falls linearly to 0.4 at 1,000 tokens, then with the
 * inverse square of the length (0.1 at 2,000).
 */
export function lengthScore(tokenCount: number): number {
  if (!Number.isFinite(tokenCount) || tokenCount <= 0) return 0;
  if (tokenCount < SHORT_TOKENS) return (tokenCount / SHORT_TOKENS) ** 1.5;
  if (tokenCount <= LONG_TOKENS) return 1;
  if (tokenCount > TOO_LONG_TOKENS) return LONG_FLOOR * (TOO_LONG_TOKENS / tokenCount) ** 2;
  return 1 - ((1 - LONG_FLOOR) * (tokenCount - LONG_TOKENS)) / (TOO_LONG_TOKENS - LONG_TOKENS);
}

// ---------------------------------------------------------------------------------------------------------
// Vocabulary

/** Words per window of the moving type-token ratio; 50 is the usual choice for texts of a few hundred words. */
const MATTR_WINDOW = 50;
/** Below this moving type-token ratio text is mostly repetition; at or above the upper bound, varied prose. */
const MATTR_FLOOR = 0.25;
const MATTR_CEILING = 0.7;

/**
 * Vocabulary diversity: the moving-average type-token ratio (MATTR) of the lowercased words, i.e. the
 * share of distinct words in every window of 50 consecutive words, averaged. Unlike a plain type-token
 * ratio it does not fall just because a text is longer, so chunks of any size compare fairly; repetitive
 * text (boilerplate, a line repeated, keyword stuffing) scores low. Texts shorter than a window use their
 * plain ratio. Mapped linearly from 0.25 (score 0) to 0.7 (score 1): varied prose sits at the top.
 */
export function vocabularyScore(text: string): number {
  // Lowercasing copies the text; most chunks are ASCII, lowercased while hashing instead.
  const words = wordHashes(NON_ASCII.test(text) ? text.toLowerCase() : text);
  if (words.length === 0) return 0;
  return clamp01((movingTypeTokenRatio(words, MATTR_WINDOW) - MATTR_FLOOR) / (MATTR_CEILING - MATTR_FLOOR));
}

/** Anything beyond printable ASCII; a stray control character only costs a needless lowercasing. */
const NON_ASCII = /[^\t\n\r -~]/;

/**
 * Distinct words per window, slid one word at a time: a word entering counts when its previous occurrence
 * is outside the window, a word leaving uncounts when it does not occur again inside it.
 */
function movingTypeTokenRatio(words: Int32Array, window: number): number {
  const size = Math.min(window, words.length);
  const lastSeen = new IntIndexMap(words.length);
  const next = new Int32Array(words.length).fill(words.length);
  let distinct = 0;
  let sum = 0;
  for (let i = 0; i < words.length; i++) {
    if (i >= size && (next[i - size] as number) >= i) distinct--;
    const word = words[i] as number;
    const previous = lastSeen.swap(word, i);
    if (previous < Math.max(0, i - size + 1)) distinct++;
    if (previous >= 0) next[previous] = i;
    if (i >= size - 1) sum += distinct / size;
  }
  return sum / (words.length - size + 1);
}

/** An int → index map with open addressing: no deletes needed, and far cheaper than a `Map` per word. */
class IntIndexMap {
  private readonly keys: Int32Array;
  private readonly values: Int32Array;
  private readonly mask: number;

  constructor(capacity: number) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(8, capacity * 2)));
    this.keys = new Int32Array(size);
    this.values = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  /** Stores `value` under `key` and returns the value it replaces, or -1. */
  swap(key: number, value: number): number {
    let slot = Math.imul(key, 0x9e3779b1) & this.mask;
    while (this.values[slot] !== -1 && this.keys[slot] !== key) slot = (slot + 1) & this.mask;
    const previous = this.values[slot] as number;
    this.keys[slot] = key;
    this.values[slot] = value;
    return previous;
  }
}

/**
 * The words of `text` as 32-bit FNV-1a hashes of their lowercased characters, read in one pass without
 * allocating a string per word, as this runs on every chunk of an ingest. A collision could only merge two
 * words within one window.
 */
function wordHashes(text: string): Int32Array {
  const hashes = new Int32Array(text.length);
  let count = 0;
  let hash = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const kind = charKind(text, i, code);
    if (kind === LETTER || kind === DIGIT || kind === MARK) {
      const lower = code < 128 && kind === LETTER ? code | 32 : code;
      hash = Math.imul((inWord ? hash : 0x811c9dc5) ^ lower, 0x01000193);
      inWord = true;
      continue;
    }
    if (kind === TRAIL) continue;
    if (inWord) hashes[count++] = hash;
    inWord = false;
    if (kind === LONE_LETTER) hashes[count++] = Math.imul(0x811c9dc5 ^ code, 0x01000193);
  }
  if (inWord) hashes[count++] = hash;
  return hashes.subarray(0, count);
}

const SPACE = 0;
const LETTER = 1;
const DIGIT = 2;
/** A combining mark: part of the word it follows, but not a letter. */
const MARK = 3;
/** A letter of a script written without spaces, which counts as a word of its own. */
const LONE_LETTER = 4;
const SYMBOL = 5;
/** The second half of a surrogate pair, already classified with the first. */
const TRAIL = 6;
type CharKind =
  | typeof SPACE
  | typeof LETTER
  | typeof DIGIT
  | typeof MARK
  | typeof LONE_LETTER
  | typeof SYMBOL
  | typeof TRAIL;

/** Most text is ASCII: classify it by table, and leave the Unicode property tests to the rest. */
const ASCII_KINDS = Uint8Array.from({ length: 128 }, (_, code) => {
  const char = String.fromCharCode(code);
  if (/\s/.test(char)) return SPACE;
  if (/[a-zA-Z]/.test(char)) return LETTER;
  return /[0-9]/.test(char) ? DIGIT : SYMBOL;
});

const SPACE_AT = /\s/y;
const LETTER_AT = /\p{L}/uy;
const DIGIT_AT = /\p{N}/uy;
const MARK_AT = /\p{M}/uy;

function charKind(text: string, index: number, code: number): CharKind {
  if (code < 128) return ASCII_KINDS[code] as CharKind;
  if (code >= 0xdc00 && code <= 0xdfff) return TRAIL;
  if (matchesAt(SPACE_AT, text, index)) return SPACE;
  if (matchesAt(LETTER_AT, text, index)) return isUnspacedLetter(code) ? LONE_LETTER : LETTER;
  if (matchesAt(DIGIT_AT, text, index)) return DIGIT;
  return matchesAt(MARK_AT, text, index) ? MARK : SYMBOL;
}

function matchesAt(pattern: RegExp, text: string, index: number): boolean {
  pattern.lastIndex = index;
  return pattern.test(text);
}

// ---------------------------------------------------------------------------------------------------------
// Structure

const HEADING_LINE = /^ {0,3}#{1,6}[ \t]+\S/m;
const LIST_LINE = /^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S/m;
const CODE_FENCE = /^[ \t]*(?:```|~~~)/m;
const TABLE_DELIMITER_LINE = /^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*\|/m;
const PARAGRAPH_BREAK = /\S[ \t]*\n[ \t]*\n[ \t]*\S/;

/**
 * Structure: how much Markdown structure the chunk carries — a heading (0.3), a list (0.2), a code block
 * (0.2), a table (0.2), more than one paragraph (0.1) — on top of 0.2 for any text, capped at 1. Structure
 * tells a pair generator what the text is about and where its parts are, so structured chunks tend to give
 * more specific questions; plain prose is not penalised beyond missing the bonus.
 */
export function structureScore(text: string): number {
  if (text.trim() === "") return 0;
  let score = 0.2;
  if (HEADING_LINE.test(text)) score += 0.3;
  if (LIST_LINE.test(text)) score += 0.2;
  if (CODE_FENCE.test(text)) score += 0.2;
  if (TABLE_DELIMITER_LINE.test(text)) score += 0.2;
  if (PARAGRAPH_BREAK.test(text)) score += 0.1;
  return Math.min(1, score);
}

// ---------------------------------------------------------------------------------------------------------
// Coherence

/** Well-formed sentences have between these many words; more is a run-on, fewer a fragment. */
const MIN_SENTENCE_WORDS = 3;
const MAX_SENTENCE_WORDS = 60;
/** Prose has at least this share of letters among its visible characters (English runs near 0.8)... */
const MIN_LETTER_SHARE = 0.65;
/** ...while at this share or below a "sentence" is symbol soup, and it scores 0 whatever its form. */
const SOUP_LETTER_SHARE = 0.4;
/** Code and tables say nothing about prose quality: a chunk made only of them is neither good nor bad. */
const NEUTRAL_COHERENCE = 0.5;

/**
 * Terminal punctuation, closing quotes or brackets, then the whitespace before the next sentence; Chinese
 * and Japanese full stops end a sentence with no space after them, as those languages are written.
 */
const SENTENCE_END = /[.!?…]["'”’)\]]*\s+|[。！？]+["'”’)\]」』）]*\s*/gu;
const STARTS_LIKE_SENTENCE = /^[^\p{L}\p{N}]*[\p{Lu}\p{Lt}\p{Lo}\p{N}]/u;
const ENDS_LIKE_SENTENCE = /[.!?…。！？:;]["'”’)\]」』）]*$/u;
const LIST_ITEM = /^(?:>\s*)*(?:[-*+]|\d{1,9}[.)])\s+/;

/**
 * Coherence: the share of the prose that is made of well-formed sentences — starting with a capital (or a
 * digit, or in a script without case), ending with terminal punctuation, 3 to 60 words long, and mostly
 * letters. Each sentence scores the checks it passes (0.3 start, 0.35 end, 0.35 length), scaled down to 0
 * as its share of letters falls from 65% to 40%, and weighs by its word count: fragments, garbled text,
 * long run-ons and symbol soup pull the score down in proportion to how much of the chunk they fill.
 * Headings, code and tables are left out; a chunk with no prose at all scores 0.5, as there is nothing to
 * judge either way.
 */
export function coherenceScore(text: string): number {
  let weight = 0;
  let total = 0;
  const hasCodeOrTable = forEachSentence(text, (sentence, listItem) => {
    const stats = sentenceStats(sentence);
    if (stats.visible === 0) return;
    const units = Math.max(1, stats.words);
    weight += units;
    total += units * sentenceQuality(sentence, listItem, stats);
  });
  if (weight === 0) return hasCodeOrTable ? NEUTRAL_COHERENCE : 0;
  return total / weight;
}

interface SentenceStats {
  words: number;
  letters: number;
  visible: number;
}

/**
 * The share of the sentence checks passed, scaled down when letters are scarce: a string of symbols is not
 * a sentence however it starts and ends. List items are often fragments by design, so they are not asked
 * to end like sentences.
 */
function sentenceQuality(sentence: string, listItem: boolean, stats: SentenceStats): number {
  // In hundredths, so that passing every check sums to exactly 1.
  let score = 0;
  if (STARTS_LIKE_SENTENCE.test(sentence)) score += 30;
  if (listItem || ENDS_LIKE_SENTENCE.test(sentence)) score += 35;
  if (stats.words >= MIN_SENTENCE_WORDS && stats.words <= MAX_SENTENCE_WORDS) score += 35;
  const letterShare = stats.letters / stats.visible;
  const letterFactor = clamp01((letterShare - SOUP_LETTER_SHARE) / (MIN_LETTER_SHARE - SOUP_LETTER_SHARE));
  return (score / 100) * letterFactor;
}

/** Words, letters and visible characters in one pass, by the same reading of words as `wordHashes`. */
function sentenceStats(text: string): SentenceStats {
  let words = 0;
  let letters = 0;
  let visible = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const kind = charKind(text, i, text.charCodeAt(i));
    if (kind === TRAIL) continue;
    if (kind !== SPACE) visible++;
    if (kind === LETTER || kind === LONE_LETTER) letters++;
    const continues = kind === LETTER || kind === DIGIT || kind === MARK;
    if (continues && !inWord) words++;
    if (kind === LONE_LETTER) words++;
    inWord = continues;
  }
  return { words, letters, visible };
}

/**
 * Visits the prose of a Markdown chunk sentence by sentence: paragraphs are re-joined across soft line
 * breaks and cut at sentence ends; a list item is one sentence; fenced code, table rows and headings are
 * skipped. Returns whether code or a table was seen.
 */
function forEachSentence(text: string, visit: (sentence: string, listItem: boolean) => void): boolean {
  let paragraph = "";
  let inFence = false;
  let hasCodeOrTable = false;
  const flush = () => {
    if (paragraph) visitSentences(paragraph, visit);
    paragraph = "";
  };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("```") || line.startsWith("~~~")) {
      inFence = !inFence;
      hasCodeOrTable = true;
      flush();
    } else if (inFence) {
      // code is not prose
    } else if (line.startsWith("|")) {
      hasCodeOrTable = true;
      flush();
    } else if (line === "" || (line.startsWith("#") && HEADING_LINE.test(line))) {
      flush();
    } else {
      const item = LIST_ITEM.exec(line);
      if (item) {
        flush();
        visit(line.slice(item[0].length), true);
      } else {
        const content = line.startsWith(">") ? line.replace(/^(?:>\s*)+/, "") : line;
        paragraph = paragraph ? `${paragraph} ${content}` : content;
      }
    }
  }
  flush();
  return hasCodeOrTable;
}

function visitSentences(paragraph: string, visit: (sentence: string, listItem: boolean) => void): void {
  let start = 0;
  for (const end of paragraph.matchAll(SENTENCE_END)) {
    const stop = end.index + end[0].trimEnd().length;
    if (stop > start) visit(paragraph.slice(start, stop), false);
    start = end.index + end[0].length;
  }
  if (start < paragraph.length) visit(paragraph.slice(start), false);
}
