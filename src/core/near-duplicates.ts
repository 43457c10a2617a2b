/**
 * Exact and near-duplicate detection for chunks, built so a project of 100k chunks never needs an
 * all-pairs comparison:
 *
 * - exact duplicates share `contentHash` (sha256 of the normalised text);
 * - near duplicates share at least one LSH band key of their MinHash signatures, and are then confirmed
 *   by the Jaccard similarity estimated from the two signatures.
 *
 * Stability contract: content hashes and signatures are stored in the database and compared with those
 * of chunks ingested later, possibly by another process or another FineFlow version. Everything that
 * feeds them is therefore fixed here and must not change without bumping `MINHASH_SCHEME_VERSION`: the
 * normalisation, the FNV-1a word hash and shingle mixing, the permutation family and the PRNG seed that
 * draws its coefficients. Each chunk row records the scheme of its signature, and `ChunksRepository`
 * recomputes those of an older one from the chunk's text before comparing. (A change to the
 * normalisation would also change content hashes, which nothing recomputes.) Band keys are not stored
 * (each process indexes them in memory, see `kept-chunk-index.ts`), so their hashing may change.
 */
import { createHash } from "node:crypto";
import { BandBuckets, bandKey } from "./band-buckets.js";
import { fmix32 } from "./hash.js";
import { mulberry32 } from "./random.js";
import { isUnspacedLetter } from "./unspaced-scripts.js";

export interface MinHashOptions {
  /** Signature length: more hashes estimate Jaccard more precisely (σ ≈ √(J(1−J)/n)). */
  numHashes: number;
  /** Words per shingle. */
  shingleSize: number;
}

export const DEFAULT_MINHASH: Readonly<MinHashOptions> = Object.freeze({ numHashes: 128, shingleSize: 5 });
export const DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.8;
/** Probability that a pair whose Jaccard equals the threshold shares at least one band. */
export const LSH_TARGET_RECALL = 0.95;
/** Bump when anything listed in this module's stability contract changes. */
export const MINHASH_SCHEME_VERSION = 3;
/** The value of every slot of an empty text's signature; no permutation can produce it. */
export const EMPTY_SIGNATURE_SLOT = 0xffffffff;

// Markdown and HTML renderings of the same text differ in these marks, not in their words.
const PUNCTUATION = /[\p{P}`^|~]+/gu;
// Zero-width and bidi characters are invisible, so they must not make two texts look different.
const FORMAT_CHARACTERS = /\p{Cf}+/gu;
// Leaves single spaces alone: rewriting each of them with itself took a third of normalisation time.
const WHITESPACE = /\s{2,}|[^\S ]/g;

// ASCII is its own NFKC form and holds no format character: most text skips both steps.
const NON_ASCII = /[^\p{ASCII}]/u;

export function normalizeForHash(text: string): string {
  const folded = !NON_ASCII.test(text)
    ? text.toLowerCase()
    : text.normalize("NFKC").toLowerCase().replace(FORMAT_CHARACTERS, "");
  return folded.replace(PUNCTUATION, " ").replace(WHITESPACE, " ").trim();
}

export function contentHash(text: string): string {
  return sha256Hex(normalizeForHash(text));
}

function sha256Hex(normalized: string): string {
  return createHash("sha256").update(normalized, "utf8").digest("hex");
}

export function resolveMinHashOptions(options: Partial<MinHashOptions> = {}): MinHashOptions {
  const numHashes = options.numHashes ?? DEFAULT_MINHASH.numHashes;
  const shingleSize = options.shingleSize ?? DEFAULT_MINHASH.shingleSize;
  if (!Number.isInteger(numHashes) || numHashes < 1) {
    throw new RangeError(`numHashes must be a positive integer, got ${numHashes}`);
  }
  if (!Number.isInteger(shingleSize) || shingleSize < 1) {
    throw new RangeError(`shingleSize must be a positive integer, got ${shingleSize}`);
  }
  return { numHashes, shingleSize };
}

// ---------------------------------------------------------------------------------------------------
// Hashing primitives

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SHINGLE_SEED = 0x9e3779b9;

/** Order matters: "a b c" and "c b a" must be different shingles. */
function hashShingle(ring: Int32Array, oldest: number, count: number): number {
  let h = SHINGLE_SEED;
  // Every ingested and validated word passes here: a wrap-around test instead of `%`, reads in bounds.
  for (let j = 0, at = oldest; j < count; j++) {
    h = Math.imul(h ^ (ring[at] as number), FNV_PRIME);
    if (++at === ring.length) at = 0;
  }
  return fmix32(h);
}

/**
 * One pass over the normalised text (`normalizeForHash`: words between single spaces): each word is
 * FNV-1a hashed as its characters go by, and a ring of the last `k` word hashes yields each shingle's
 * hash without building any shingle string. A Chinese character, a kana or a Thai letter is a word of its
 * own (`isUnspacedLetter`): read up to the next space, a Chinese text was a few words a clause long, and
 * one changed character in three of its clauses left two such chunks unmatched.
 */
export function shingleHashes(normalized: string, k: number): number[] {
  const ring = new Int32Array(k);
  const hashes: number[] = [];
  let words = 0;
  const addWord = (hash: number) => {
    ring[words % k] = hash;
    words++;
    if (words >= k) hashes.push(hashShingle(ring, words % k, k));
  };
  let h = FNV_OFFSET;
  let inWord = false;
  for (let i = 0; i <= normalized.length; i++) {
    const c = i < normalized.length ? normalized.charCodeAt(i) : 32;
    const alone = c >= 0x0e00 && isUnspacedLetter(c);
    if (c !== 32 && !alone) {
      h = Math.imul(h ^ c, FNV_PRIME);
      inWord = true;
      continue;
    }
    if (inWord) addWord(h);
    h = FNV_OFFSET;
    inWord = false;
    if (alone) addWord(Math.imul(FNV_OFFSET ^ c, FNV_PRIME));
  }
  // A text shorter than one shingle is still a set: its single, shorter shingle.
  if (words > 0 && words < k) hashes.push(hashShingle(ring, 0, words));
  return hashes;
}

// ---------------------------------------------------------------------------------------------------
// Permutations: h_i(x) = ((a_i·x + b_i) mod 2^32) >> 1, a_i odd, coefficients drawn from a fixed seed.
//
// Scheme 1 used (a_i·x + b_i) mod (2^31 − 1) in doubles, 2.5× slower per signature. Shingle hashes are
// already fmix32-mixed, so multiply-add modulo 2^32 (a bijection for odd a_i) orders them as randomly:
// over sets of 10–400 shingles at Jaccard 0.3–0.9, both schemes' estimates were unbiased with the same
// spread (σ ≈ √(J(1−J)/128)). The shift keeps every slot below 2^31, so none can be EMPTY_SIGNATURE_SLOT.
// Scheme 2 read a run of Chinese, Japanese or Thai up to the next space (or punctuation) as one word;
// scheme 3 reads each of its characters as one (`shingleHashes`), and gives other text the same values.

const COEFFICIENT_SEED = 0x46494e45; // "FINE"
const MAX_SLOT = 0x7fffffff;
/** Permutations computed together in one pass over the shingles: each shingle is read once per group. */
const GROUP = 4;

/** Per permutation i, a_i at 2i and b_i at 2i + 1, for a whole number of groups. */
const coefficientCache = new Map<number, Int32Array>();

/** Drawn in order from one seed, so the first n of a longer signature equal a signature of length n. */
function coefficients(numHashes: number): Int32Array {
  const groups = Math.ceil(numHashes / GROUP);
  const cached = coefficientCache.get(groups);
  if (cached) return cached;
  const next = mulberry32(COEFFICIENT_SEED);
  const coeffs = new Int32Array(groups * GROUP * 2);
  for (let i = 0; i < coeffs.length; i += 2) {
    coeffs[i] = next() | 1;
    coeffs[i + 1] = next();
  }
  coefficientCache.set(groups, coeffs);
  return coeffs;
}

/**
 * The inner loop runs numHashes times per shingle (≈ 5·10^9 times for 100k chunks): 32-bit integer
 * arithmetic only, and four permutations per pass so that their minima stay in registers (1.6× faster
 * than one at a time). The `as number` reads are in bounds by construction; a `?? 0` there costs a
 * fifth of the time.
 */
function signatureOfShingles(shingles: readonly number[], numHashes: number): Uint32Array {
  if (shingles.length === 0) return new Uint32Array(numHashes).fill(EMPTY_SIGNATURE_SLOT);
  const coeffs = coefficients(numHashes);
  const xs = Int32Array.from(shingles);
  const count = xs.length;
  const slots = new Uint32Array(coeffs.length / 2);
  for (let j = 0; j < coeffs.length; j += 2 * GROUP) {
    const a0 = coeffs[j] as number;
    const b0 = coeffs[j + 1] as number;
    const a1 = coeffs[j + 2] as number;
    const b1 = coeffs[j + 3] as number;
    const a2 = coeffs[j + 4] as number;
    const b2 = coeffs[j + 5] as number;
    const a3 = coeffs[j + 6] as number;
    const b3 = coeffs[j + 7] as number;
    // Small integers, as every r is: V8 keeps the loop in integer registers (0xffffffff would be a double).
    let m0 = MAX_SLOT;
    let m1 = MAX_SLOT;
    let m2 = MAX_SLOT;
    let m3 = MAX_SLOT;
    for (let s = 0; s < count; s++) {
      const x = xs[s] as number;
      const r0 = (Math.imul(a0, x) + b0) >>> 1;
      if (r0 < m0) m0 = r0;
      const r1 = (Math.imul(a1, x) + b1) >>> 1;
      if (r1 < m1) m1 = r1;
      const r2 = (Math.imul(a2, x) + b2) >>> 1;
      if (r2 < m2) m2 = r2;
      const r3 = (Math.imul(a3, x) + b3) >>> 1;
      if (r3 < m3) m3 = r3;
    }
    const at = j / 2;
    slots[at] = m0;
    slots[at + 1] = m1;
    slots[at + 2] = m2;
    slots[at + 3] = m3;
  }
  return slots.length === numHashes ? slots : slots.slice(0, numHashes);
}

function signatureOfNormalized(normalized: string, options: MinHashOptions): Uint32Array {
  return signatureOfShingles(shingleHashes(normalized, options.shingleSize), options.numHashes);
}

/** Word-shingle MinHash. An empty text gets `EMPTY_SIGNATURE_SLOT` in every slot. */
export function minhashSignature(text: string, options?: Partial<MinHashOptions>): Uint32Array {
  return signatureOfNormalized(normalizeForHash(text), resolveMinHashOptions(options));
}

export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) {
    throw new RangeError(`signatures differ in length (${a.length} vs ${b.length})`);
  }
  if (a.length === 0) return 0;
  let equal = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) equal++;
  }
  return equal / a.length;
}

// ---------------------------------------------------------------------------------------------------
// Locality-sensitive hashing

export interface LshParams {
  bands: number;
  rows: number;
}

function assertThreshold(threshold: number): void {
  if (!(threshold > 0 && threshold <= 1)) {
    throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  }
}

/** Probability that a pair with Jaccard `similarity` shares at least one of `bands` bands of `rows`. */
export function lshCollisionProbability(similarity: number, { bands, rows }: LshParams): number {
  return 1 - (1 - similarity ** rows) ** bands;
}

const lshParamsCache = new Map<string, LshParams>();

/**
 * The most rows per band (fewest chance collisions of dissimilar pairs, so fewest candidates to confirm)
 * that still keep `LSH_TARGET_RECALL` at the threshold. 128 hashes at 0.8 → 18 bands × 7 rows: 0.986
 * at J = 0.8, 0.13 at J = 0.5, 0.004 at J = 0.3.
 */
export function lshParams(numHashes: number, threshold = DEFAULT_NEAR_DUPLICATE_THRESHOLD): LshParams {
  assertThreshold(threshold);
  const key = `${numHashes}:${threshold}`;
  const cached = lshParamsCache.get(key);
  if (cached) return cached;
  let best: LshParams = { bands: numHashes, rows: 1 };
  for (let rows = 2; rows <= numHashes; rows++) {
    const params = { bands: Math.floor(numHashes / rows), rows };
    if (lshCollisionProbability(threshold, params) >= LSH_TARGET_RECALL) best = params;
  }
  Object.freeze(best);
  lshParamsCache.set(key, best);
  return best;
}

/** One key per band; two signatures are near-duplicate candidates when they share a band's key. */
export function bandKeys(signature: Uint32Array, threshold = DEFAULT_NEAR_DUPLICATE_THRESHOLD): number[] {
  const { bands, rows } = lshParams(signature.length, threshold);
  const keys: number[] = [];
  for (let band = 0; band < bands; band++) keys.push(bandKey(signature, band, rows));
  return keys;
}

// ---------------------------------------------------------------------------------------------------
// Storage

/** Little-endian whatever the platform, so stored bytes read back the same everywhere. */
export function signatureToBytes(sig: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(sig.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < sig.length; i++) view.setUint32(i * 4, sig[i] ?? 0, true);
  return bytes;
}

/** Accepts any view (a driver's Buffer may start at an unaligned offset of a shared pool). */
export function signatureFromBytes(b: Uint8Array): Uint32Array {
  if (b.length % 4 !== 0) {
    throw new RangeError(`a signature is a multiple of 4 bytes, got ${b.length}`);
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sig = new Uint32Array(b.length / 4);
  for (let i = 0; i < sig.length; i++) sig[i] = view.getUint32(i * 4, true);
  return sig;
}

// ---------------------------------------------------------------------------------------------------
// Use by the ingest service and by the in-memory index

export interface TextFingerprint {
  contentHash: string;
  signature: Uint32Array;
}

/** Everything to store for one chunk, normalising the text once. */
export function fingerprint(text: string, options?: Partial<MinHashOptions>): TextFingerprint {
  const normalized = normalizeForHash(text);
  const signature = signatureOfNormalized(normalized, resolveMinHashOptions(options));
  return { contentHash: sha256Hex(normalized), signature };
}

export interface SignedCandidate {
  id: string;
  signature: Uint32Array;
}

/**
 * The candidate most similar to `signature`, if its estimated Jaccard reaches the threshold; on a tie
 * the first one given wins, so pass candidates oldest first to point at the earliest chunk.
 */
export function bestNearDuplicate(
  signature: Uint32Array,
  candidates: Iterable<SignedCandidate>,
  threshold = DEFAULT_NEAR_DUPLICATE_THRESHOLD,
): { id: string; similarity: number } | undefined {
  assertThreshold(threshold);
  let best: { id: string; similarity: number } | undefined;
  for (const candidate of candidates) {
    const similarity = estimateJaccard(signature, candidate.signature);
    if (similarity >= threshold && (best === undefined || similarity > best.similarity)) {
      best = { id: candidate.id, similarity };
    }
  }
  return best;
}

export type DuplicateCheck =
  | { duplicateOf?: undefined; kind?: undefined; similarity?: undefined }
  | { duplicateOf: string; kind: "exact" | "near"; similarity: number };

/**
 * Duplicates within a batch of texts whose signatures are at hand: a document's new chunks checked
 * against the kept chunks they could repeat (`markDuplicates`). Only texts that were not duplicates
 * become match targets, so `duplicateOf` always names a chunk that is kept.
 */
export class NearDuplicateIndex {
  readonly threshold: number;
  private readonly options: MinHashOptions;
  private readonly seen = new Set<string>();
  private readonly byHash = new Map<string, string>();
  /** Match targets, oldest first: a target's number in `buckets` is its index here. */
  private readonly targets: SignedCandidate[] = [];
  private readonly buckets: BandBuckets;

  constructor(threshold = DEFAULT_NEAR_DUPLICATE_THRESHOLD, options?: Partial<MinHashOptions>) {
    assertThreshold(threshold);
    this.threshold = threshold;
    this.options = resolveMinHashOptions(options);
    this.buckets = new BandBuckets(lshParams(this.options.numHashes, threshold).bands);
  }

  /** Texts added so far, duplicates included. */
  get size(): number {
    return this.seen.size;
  }

  /** Returns the id of the earlier exact or near duplicate, or nothing, and records the text. */
  add(id: string, text: string): DuplicateCheck {
    const normalized = normalizeForHash(text);
    return this.check(id, sha256Hex(normalized), () => signatureOfNormalized(normalized, this.options));
  }

  /** `add` for a text already fingerprinted, e.g. by the ingest pipeline before it stores the chunk. */
  addFingerprint(id: string, fp: Pick<TextFingerprint, "contentHash" | "signature">): DuplicateCheck {
    return this.check(id, fp.contentHash, () => fp.signature);
  }

  /** Makes a chunk already stored and kept (not a duplicate) a match target, without checking it. */
  addKept(id: string, contentHash: string, signature: Uint32Array): void {
    this.claim(id);
    this.assertLength(signature);
    this.addTarget(id, contentHash, signature);
  }

  private check(id: string, hash: string, signatureOf: () => Uint32Array): DuplicateCheck {
    this.claim(id);
    const exact = this.byHash.get(hash);
    if (exact !== undefined) return { duplicateOf: exact, kind: "exact", similarity: 1 };

    // Computed only now: an exact duplicate never needs its signature.
    const signature = signatureOf();
    this.assertLength(signature);
    const keys = bandKeys(signature, this.threshold);
    const near = bestNearDuplicate(signature, this.candidates(keys), this.threshold);
    if (near) return { duplicateOf: near.id, kind: "near", similarity: near.similarity };

    this.addTarget(id, hash, signature, keys);
    return {};
  }

  private claim(id: string): void {
    if (this.seen.has(id)) throw new RangeError(`id ${JSON.stringify(id)} was already added`);
    this.seen.add(id);
  }

  private assertLength(signature: Uint32Array): void {
    if (signature.length !== this.options.numHashes) {
      throw new RangeError(
        `expected a signature of ${this.options.numHashes} hashes, got ${signature.length}`,
      );
    }
  }

  private candidates(keys: readonly number[]): SignedCandidate[] {
    return [...this.buckets.candidates(keys)]
      .sort((a, b) => a - b)
      .map((target) => this.targets[target] as SignedCandidate);
  }

  private addTarget(
    id: string,
    hash: string,
    signature: Uint32Array,
    keys = bandKeys(signature, this.threshold),
  ): void {
    if (!this.byHash.has(hash)) this.byHash.set(hash, id);
    this.targets.push({ id, signature });
    this.buckets.add(keys);
  }
}
