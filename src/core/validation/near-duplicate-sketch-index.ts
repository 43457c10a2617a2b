/**
 * Near-duplicate detection over a stream of a million texts in about 200 bytes a text. It reuses the
 * chunk deduplication's word shingles and LSH banding but none of its per-text objects: buckets are
 * chains through typed arrays, and a candidate is confirmed from a sketch keeping 4 bits of each MinHash
 * slot (b-bit MinHash, Li & König 2010), 64 bytes where the signature is 512, for almost the same
 * precision near the threshold.
 *
 * Nothing here is stored or compared across runs, so unlike `near-duplicates.ts` it has no stability
 * contract: signatures, band hashing and sketches may change freely. That is why signatures here come
 * from one-permutation hashing, one hash per shingle instead of 128 — it was the validator's costliest
 * step after token counting.
 */

import { BandBuckets, bandKey } from "../band-buckets.js";
import { GrowingUint32Array } from "../growing-uint32-array.js";
import { fmix32 } from "../hash.js";
import { DEFAULT_MINHASH, lshParams, shingleHashes } from "../near-duplicates.js";

export interface NearMatch {
  /** The label the earlier text was added with. */
  label: number;
  /** Estimated Jaccard similarity of the two texts' shingle sets. */
  similarity: number;
}

const SKETCH_BITS = 4;
const SLOTS_PER_WORD = 32 / SKETCH_BITS;
/** Two unrelated signatures agree on a slot's low 4 bits by chance once in 16. */
const CHANCE_AGREEMENT = 1 / 2 ** SKETCH_BITS;

export class NearDuplicateSketchIndex {
  readonly threshold: number;
  readonly bands: number;
  readonly rows: number;
  private readonly numHashes: number;
  private readonly sketchWords: number;
  private readonly buckets: BandBuckets;
  private readonly sketches: GrowingUint32Array;
  private readonly labels: GrowingUint32Array;

  /**
   * `expectedTexts` sizes every array once, when the caller knows how many texts will come: growing by
   * doubling leaves up to half of each array unused and, while it copies, both copies in memory.
   */
  constructor(threshold: number, numHashes = DEFAULT_MINHASH.numHashes, expectedTexts = 0) {
    const { bands, rows } = lshParams(numHashes, threshold);
    this.threshold = threshold;
    this.bands = bands;
    this.rows = rows;
    this.numHashes = numHashes;
    this.sketchWords = Math.ceil(numHashes / SLOTS_PER_WORD);
    const texts = Math.max(64, expectedTexts);
    this.buckets = new BandBuckets(bands, texts);
    this.sketches = new GrowingUint32Array(this.sketchWords * texts);
    this.labels = new GrowingUint32Array(texts);
  }

  /** Texts kept as match targets: those that were not near-duplicates of an earlier one. */
  get targets(): number {
    return this.labels.length;
  }

  /** Bucket entries held: exactly `bands` for each target, whatever the texts. */
  get entries(): number {
    return this.buckets.entries;
  }

  get byteLength(): number {
    return this.buckets.byteLength + this.sketches.byteLength + this.labels.byteLength;
  }

  /**
   * `normalized` is `normalizeForHash` output. The most similar earlier text at or above the threshold (the oldest on a tie); when there is none,
   * this text becomes a target for the texts after it. A near-duplicate does not, so a chain of small
   * edits is measured against the text it started from.
   */
  add(normalized: string, label: number): NearMatch | undefined {
    const signature = onePermutationSignature(
      shingleHashes(normalized, DEFAULT_MINHASH.shingleSize),
      this.numHashes,
    );
    const keys = this.bandKeys(signature);
    const sketch = sketchOf(signature, this.sketchWords);
    const match = this.bestMatch(keys, sketch);
    if (match) return match;
    this.addTarget(keys, sketch, label);
    return undefined;
  }

  private bandKeys(signature: Uint32Array): number[] {
    const keys: number[] = [];
    for (let band = 0; band < this.bands; band++) keys.push(bandKey(signature, band, this.rows));
    return keys;
  }

  private bestMatch(keys: readonly number[], sketch: Uint32Array): NearMatch | undefined {
    let best: { target: number; similarity: number } | undefined;
    for (const target of this.buckets.candidates(keys)) {
      const similarity = this.similarity(sketch, target);
      if (similarity < this.threshold) continue;
      const better = !best || similarity > best.similarity;
      const olderTie = best && similarity === best.similarity && target < best.target;
      if (better || olderTie) best = { target, similarity };
    }
    return best && { label: this.labels.at(best.target), similarity: best.similarity };
  }

  private similarity(sketch: Uint32Array, target: number): number {
    const start = target * this.sketchWords;
    const stored = this.sketches.view().subarray(start, start + this.sketchWords);
    const padding = this.sketchWords * SLOTS_PER_WORD - this.numHashes;
    const observed = (equalNibbles(sketch, stored) - padding) / this.numHashes;
    return Math.max(0, (observed - CHANCE_AGREEMENT) / (1 - CHANCE_AGREEMENT));
  }

  private addTarget(keys: readonly number[], sketch: Uint32Array, label: number): void {
    this.buckets.add(keys);
    for (const word of sketch) this.sketches.push(word);
    this.labels.push(label);
  }
}

/** Bins hold signed values (int32 arithmetic is V8's fastest), so the largest int32 marks an empty one. */
const EMPTY_BIN = 0x7fffffff;
const VALUE_SEED = 0x2545f491;

/**
 * One-permutation hashing (Li, Owen & Zhang 2012) densified by rotation (Shrivastava & Li 2014): each
 * shingle's hash picks one of `bins` bins and keeps the bin's minimum of a second, independent hash; an
 * empty bin then takes the value of the nearest filled bin to its right, offset by the distance so that
 * the copies differ from their source. Two texts agree on a bin with probability equal to their Jaccard
 * similarity, as with `bins` permutations, at the cost of one hash per shingle instead of `bins`.
 */
function onePermutationSignature(shingles: readonly number[], bins: number): Uint32Array {
  const own = new Int32Array(bins).fill(EMPTY_BIN);
  const scale = bins / 2 ** 32;
  let filled = 0;
  for (let s = 0; s < shingles.length; s++) {
    const shingle = shingles[s] as number;
    const bin = Math.floor((shingle >>> 0) * scale);
    const value = fmix32(shingle ^ VALUE_SEED) | 0;
    const current = own[bin] as number;
    if (current === EMPTY_BIN) filled++;
    // A value equal to EMPTY_BIN would read as empty: it becomes the next smaller one.
    if (value < current) own[bin] = value;
    else if (current === EMPTY_BIN) own[bin] = EMPTY_BIN - 1;
  }
  if (filled > 0 && filled < bins) densify(own);
  return new Uint32Array(own.buffer);
}

/** Walks leftwards from a filled bin, once around, carrying the last filled value into empty bins. */
function densify(bins: Int32Array): void {
  const n = bins.length;
  let start = n - 1;
  while (bins[start] === EMPTY_BIN) start--;
  let carried = bins[start] as number;
  let distance = 0;
  for (let step = 1, bin = start - 1; step < n; step++, bin--) {
    if (bin < 0) bin += n;
    const value = bins[bin] as number;
    if (value !== EMPTY_BIN) {
      carried = value;
      distance = 0;
    } else {
      distance++;
      bins[bin] = (carried + Math.imul(distance, 0x9e3779b1)) | 0;
    }
  }
}

/** The low 4 bits of each slot, 8 to a word; padding past `numHashes` is zero in every sketch. */
function sketchOf(signature: Uint32Array, words: number): Uint32Array {
  const sketch = new Uint32Array(words);
  for (let i = 0; i < signature.length; i++) {
    const word = Math.floor(i / SLOTS_PER_WORD);
    const nibble = ((signature[i] as number) & 0xf) << ((i % SLOTS_PER_WORD) * SKETCH_BITS);
    sketch[word] = ((sketch[word] as number) | nibble) >>> 0;
  }
  return sketch;
}

/** Per word: fold each differing nibble onto its low bit, then count the nibbles left at zero. */
function equalNibbles(a: Uint32Array, b: Uint32Array): number {
  let equal = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = ((a[i] as number) ^ (b[i] as number)) >>> 0;
    const differing = (diff | (diff >>> 1) | (diff >>> 2) | (diff >>> 3)) & 0x11111111;
    equal += SLOTS_PER_WORD - popcount(differing);
  }
  return equal;
}

function popcount(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
