/**
 * A generated pair's quality, in [0, 1], from three factors (the seed's): how substantial the answer is,
 * how much of it the source supports, and how different its question is from the dataset's others. Each
 * factor is its own function so it can be tested and explained alone.
 */
import { lshParams, type MinHashOptions, minhashSignature } from "../near-duplicates.js";
import type { GeneratedPair } from "./types.js";

export interface PairQuality {
  score: number;
  breakdown: { length: number; grounding: number; diversity: number };
}

/**
 * Grounding weighs most: an answer the source does not support teaches the model to invent facts, the
 * worst thing a fine-tuning set can do. Length and diversity share the rest: thin answers teach terse
 * replies, and repeated questions overweight one fact.
 */
export const PAIR_QUALITY_WEIGHTS: Readonly<Record<keyof PairQuality["breakdown"], number>> = Object.freeze({
  length: 0.25,
  grounding: 0.5,
  diversity: 0.25,
});

/** The weighted mean of the factors, rounded to 3 decimals; used again once diversity is known. */
export function combineQuality(breakdown: PairQuality["breakdown"]): number {
  return round3(
    clamp01(breakdown.length) * PAIR_QUALITY_WEIGHTS.length +
      clamp01(breakdown.grounding) * PAIR_QUALITY_WEIGHTS.grounding +
      clamp01(breakdown.diversity) * PAIR_QUALITY_WEIGHTS.diversity,
  );
}

/**
 * Scores a pair against the chunk it came from. `diversity` comes from a `PairDiversity` over the whole
 * dataset (pass 1 until it is known). Length is the mean over assistant turns, so a dialogue with one
 * substantial and one empty-ish answer is not rated as substantial; grounding is over all of them.
 */
export function scorePair(pair: GeneratedPair, sourceText: string, diversity: number): PairQuality {
  const answers = pair.messages.filter((m) => m.role === "assistant").map((m) => m.content);
  const length = answers.length === 0 ? 0 : mean(answers.map(responseLengthScore));
  const breakdown = {
    length: round3(length),
    grounding: round3(groundingScore(answers.join("\n"), sourceText)),
    diversity: round3(clamp01(diversity)),
  };
  return { score: combineQuality(breakdown), breakdown };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function clamp01(value: number): number {
  return Number.isNaN(value) ? 0 : Math.min(1, Math.max(0, value));
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

// ---------------------------------------------------------------------------------------------------------
// Words

const CJK = "\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}";
/** A CJK character is a word of its own: those scripts do not separate words with spaces. */
const WORD = new RegExp(
  `[${CJK}]|(?:(?![${CJK}])[\\p{L}\\p{N}\\p{M}])+(?:['’](?:(?![${CJK}])\\p{L})+)*`,
  "gu",
);
const CJK_CHAR = new RegExp(`^[${CJK}]$`, "u");

function tokens(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

// biome-ignore format: one long list reads better packed
const STOPWORDS = new Set([
  "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
  "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
  "do", "does", "doing", "down", "during", "each", "either", "else", "even", "ever", "every", "few", "for",
  "from", "further", "get", "gets", "got", "had", "has", "have", "having", "he", "her", "here", "hers",
  "herself", "him", "himself", "his", "how", "however", "i", "if", "in", "into", "is", "it", "its", "itself",
  "just", "let", "may", "me", "might", "more", "most", "much", "must", "my", "myself", "no", "nor", "not",
  "now", "of", "off", "on", "once", "one", "only", "or", "other", "our", "ours", "ourselves", "out", "over",
  "own", "same", "shall", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs",
  "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
  "until", "up", "upon", "us", "use", "used", "using", "very", "was", "we", "were", "what", "when", "where",
  "whether", "which", "while", "who", "whom", "whose", "why", "will", "with", "within", "without", "would",
  "yes", "you", "your", "yours", "yourself", "yourselves",
]);

/**
 * A light suffix stripper, applied alike to answer and source, so that "configured" in an answer
 * matches "configure" in the source. Deliberately crude: a miss costs a little grounding, and a full
 * stemmer per language is out of proportion to a quality hint.
 */
function stem(word: string): string {
  if (word.length <= 4 || !/^[a-z]+$/.test(word)) return word;
  let out = word.replace(/ies$/, "y");
  if (out === word && !out.endsWith("ss")) out = out.replace(/s$/, "");
  out = out.replace(/(?<=.{3})(?:ing|ed|ly)$/, "");
  return out.replace(/(?<=.{3})e$/, "");
}

/** Lowercased, stopwords and one-letter tokens removed, stemmed. */
function contentWords(text: string): string[] {
  return tokens(text)
    .filter(
      (word) =>
        !STOPWORDS.has(word.replace("’", "'")) &&
        (word.length > 1 || /\p{N}/u.test(word) || CJK_CHAR.test(word)),
    )
    .map(stem);
}

// ---------------------------------------------------------------------------------------------------------
// Length

/** Where answers become substantial (about one full sentence with a detail) and where they grow long. */
const SHORT_WORDS = 15;
const LONG_WORDS = 250;
const TOO_LONG_WORDS = 800;
/** The score at TOO_LONG_WORDS, where the linear decline gives way to a steeper one. */
const LONG_FLOOR = 0.5;

function wordCount(text: string): number {
  let count = 0;
  // A CJK character carries about half of what an English word does.
  for (const token of tokens(text)) count += CJK_CHAR.test(token) ? 0.5 : 1;
  return count;
}

/**
 * Whether an answer is substantial. 1 on a plateau of 15–250 words; below, it rises as a curve (0.19
 * at 5 words, 0.54 at 10), so one-word and one-phrase answers score low; above, it falls linearly to 0.5
 * at 800 words, then with the inverse square of the length (0.125 at 1,600), as a wall of text is rarely
 * what a fine-tuned model should learn to produce.
 */
export function responseLengthScore(assistantText: string): number {
  const words = wordCount(assistantText);
  if (words <= 0) return 0;
  if (words < SHORT_WORDS) return (words / SHORT_WORDS) ** 1.5;
  if (words <= LONG_WORDS) return 1;
  if (words > TOO_LONG_WORDS) return LONG_FLOOR * (TOO_LONG_WORDS / words) ** 2;
  return 1 - ((1 - LONG_FLOOR) * (words - LONG_WORDS)) / (TOO_LONG_WORDS - LONG_WORDS);
}

// ---------------------------------------------------------------------------------------------------------
// Grounding

/**
 * The share of the answer's content words (lowercased, stopwords removed, lightly stemmed) that occur in
 * the source. Names, numbers and terms the source never mentions are what an invented answer is made
 * of; paraphrase keeps most content words, so a faithful answer scores well above an invented one
 * without needing an LLM judge. An answer with no content words at all ("Yes, it is.") scores 0: nothing
 * in it shows it comes from the source.
 */
export function groundingScore(assistantText: string, sourceText: string): number {
  const answer = contentWords(assistantText);
  if (answer.length === 0) return 0;
  const source = new Set(contentWords(sourceText));
  let grounded = 0;
  for (const word of answer) if (source.has(word)) grounded++;
  return grounded / answer.length;
}

// ---------------------------------------------------------------------------------------------------------
// Diversity

/**
 * A question of five content words needs single-word shingles (a word set): five-word shingles would
 * make every rephrasing look unrelated. 64 hashes estimate Jaccard within about ±0.06, plenty for a score.
 */
const DIVERSITY_MINHASH: Readonly<MinHashOptions> = Object.freeze({ numHashes: 64, shingleSize: 1 });
/** Pairs at least this similar share a band with 99% probability (21 bands of 3 rows). */
const DIVERSITY_LSH_THRESHOLD = 0.6;
/**
 * Caps the signatures compared per score. A bucket holding thousands of questions that share a common
 * term could otherwise make scoring quadratic; buckets are visited smallest first, as a rare band value
 * is the most telling, and a true rephrasing shares every band with its twin, small ones included.
 */
const MAX_COMPARISONS = 32;

/**
 * How different each pair's question is from every other pair's in a dataset: 1 − the highest
 * similarity (MinHash-estimated Jaccard of the content-word sets of the user turns) to any other pair.
 * Candidates come from an LSH index, never an all-pairs scan, so 200k pairs score in near-linear time:
 * similarities from 0.6 up are found almost surely; lower ones only when they share a band by chance,
 * which makes a modestly similar question's score lie between 1 and 1 − similarity, both high anyway.
 *
 * Add every pair, then score them: the index is built on the first `score` after an `add`, so
 * alternating the two rebuilds it each time.
 */
export class PairDiversity {
  private readonly order = new Map<string, number>();
  private readonly numHashes = DIVERSITY_MINHASH.numHashes;
  private readonly bandCount: number;
  private readonly rows: number;
  /** Every signature end to end: one allocation instead of one object per pair. */
  private signatures = new Uint32Array(0);
  private count = 0;
  /** Built on the first `score` after an `add`. */
  private bands: BandIndex[] | undefined;
  private seen = new Uint32Array(0);
  private query = 0;

  constructor() {
    const { bands, rows } = lshParams(this.numHashes, DIVERSITY_LSH_THRESHOLD);
    this.bandCount = bands;
    this.rows = rows;
  }

  get size(): number {
    return this.count;
  }

  /** `userText` is the pair's user turn, or its user turns joined for a dialogue. */
  add(id: string, userText: string): void {
    if (this.order.has(id)) throw new RangeError(`id ${JSON.stringify(id)} was already added`);
    if (this.count >= MAX_PAIRS) throw new RangeError(`at most ${MAX_PAIRS} pairs can be scored together`);
    if ((this.count + 1) * this.numHashes > this.signatures.length) {
      const grown = new Uint32Array(Math.max(1024, this.count * 2) * this.numHashes);
      grown.set(this.signatures);
      this.signatures = grown;
    }
    this.signatures.set(questionSignature(userText), this.count * this.numHashes);
    this.order.set(id, this.count);
    this.count++;
    this.bands = undefined;
  }

  /** In [0, 1], 3 decimals; 1 for a pair with no similar other. */
  score(id: string): number {
    const index = this.order.get(id);
    if (index === undefined) throw new RangeError(`id ${JSON.stringify(id)} was never added`);
    const buckets = this.index()
      .map((band) => band.bucket(index))
      .filter((bucket) => bucket !== undefined)
      .sort((a, b) => a.length - b.length);
    // Stamping a typed array per query is much cheaper than a Set allocated for each of 200k queries.
    this.query++;
    this.seen[index] = this.query;
    let best = 0;
    let compared = 0;
    for (const bucket of buckets) {
      for (const other of bucket) {
        if (this.seen[other] === this.query) continue;
        this.seen[other] = this.query;
        best = Math.max(best, this.similarity(index, other));
        if (best === 1 || ++compared >= MAX_COMPARISONS) return round3(1 - best);
      }
    }
    return round3(1 - best);
  }

  /** `estimateJaccard` on the pool in place: a view per comparison would be millions of allocations. */
  private similarity(a: number, b: number): number {
    const n = this.numHashes;
    let equal = 0;
    for (let i = 0, x = a * n, y = b * n; i < n; i++, x++, y++) {
      if (this.signatures[x] === this.signatures[y]) equal++;
    }
    return equal / n;
  }

  private index(): BandIndex[] {
    if (this.bands) return this.bands;
    const hashes = new Uint32Array(this.count);
    this.bands = Array.from({ length: this.bandCount }, (_, band) => {
      for (let i = 0; i < this.count; i++) hashes[i] = this.bandHash(i, band);
      return new BandIndex(hashes);
    });
    this.seen = new Uint32Array(this.count);
    this.query = 0;
    return this.bands;
  }

  /**
   * A 30-bit number rather than near-duplicates' string band keys: this index lives in memory only, so
   * its hash need not be stable across versions, and strings for 21 bands of 200k pairs would cost
   * hundreds of megabytes. Buckets are per band, so a chance collision only adds a candidate to compare.
   */
  private bandHash(index: number, band: number): number {
    let hash = 0x811c9dc5;
    const first = index * this.numHashes + band * this.rows;
    for (let i = first; i < first + this.rows; i++) {
      hash = Math.imul(hash ^ (this.signatures[i] as number), 0x01000193);
    }
    hash ^= hash >>> 16;
    hash = Math.imul(hash, 0x85ebca6b);
    hash ^= hash >>> 13;
    return hash >>> 2;
  }
}

/** 2^22 pair indices under a 30-bit band hash stay below 2^53, exact in a double. */
const INDEX_RANGE = 2 ** 22;
const MAX_PAIRS = INDEX_RANGE;
const LONE = -1;

/**
 * The buckets of one band in compressed rows: `members` holds the pairs of every shared bucket, bucket
 * by bucket, `starts` where each begins, and `bucketOf` each pair's bucket (or LONE). A query then costs
 * two array reads per band; binary searches over sorted hashes cost a cache miss per step on 200k pairs,
 * and a Map per band costs millions of entries to fill.
 */
class BandIndex {
  private readonly bucketOf: Int32Array;
  private readonly starts: Uint32Array;
  private readonly members: Uint32Array;

  constructor(hashes: Uint32Array) {
    // Sorting `hash · 2^22 + index` in a Float64Array is native and groups each bucket's pairs in order.
    const keys = new Float64Array(hashes.length);
    for (let i = 0; i < hashes.length; i++) keys[i] = (hashes[i] as number) * INDEX_RANGE + i;
    keys.sort();
    this.bucketOf = new Int32Array(hashes.length).fill(LONE);
    const members = new Uint32Array(hashes.length);
    const starts: number[] = [];
    let used = 0;
    for (let run = 0; run < keys.length; ) {
      const hash = Math.floor((keys[run] as number) / INDEX_RANGE);
      let end = run + 1;
      while (end < keys.length && Math.floor((keys[end] as number) / INDEX_RANGE) === hash) end++;
      if (end - run > 1) {
        starts.push(used);
        for (let k = run; k < end; k++) {
          const index = (keys[k] as number) % INDEX_RANGE;
          members[used++] = index;
          this.bucketOf[index] = starts.length - 1;
        }
      }
      run = end;
    }
    starts.push(used);
    this.starts = Uint32Array.from(starts);
    this.members = members.slice(0, used);
  }

  /** The pairs sharing this band with `index`, itself included, or nothing when it is alone. */
  bucket(index: number): Uint32Array | undefined {
    const bucket = this.bucketOf[index] as number;
    if (bucket === LONE) return undefined;
    return this.members.subarray(this.starts[bucket], this.starts[bucket + 1]);
  }
}

/** Content words, or every word of a question made only of stopwords ("What is it?"). */
function questionSignature(userText: string): Uint32Array {
  const content = contentWords(userText);
  const words = content.length > 0 ? content : tokens(userText);
  return minhashSignature(words.join(" "), DIVERSITY_MINHASH);
}
