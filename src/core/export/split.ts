/**
 * The optional train/validation split. Each pair's side comes from a hash of its id and the seed alone, so
 * an export can stream in constant memory, the same seed always gives the same files, and adding pairs
 * never moves an existing pair to the other side.
 */
import { createHash } from "node:crypto";

export type SplitPart = "train" | "validation";

export interface Split<T> {
  train: T[];
  validation: T[];
}

/** `fraction` is the validation share: strictly between 0 and 1, since either file empty is no split. */
export function checkSplitFraction(fraction: number): void {
  if (!(fraction > 0 && fraction < 1)) {
    throw new RangeError(
      `split: the validation fraction must be greater than 0 and less than 1, got ${fraction}`,
    );
  }
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: must be a whole number, got ${seed}`);
}

// 48 bits: exact in a double, and fine enough that any fraction a user types is met to well under 1e-9.
const SCORE_BYTES = 6;
const SCORE_RANGE = 2 ** (SCORE_BYTES * 8);

/** Where an id falls in [0, 1) for this seed; below the fraction means validation. */
export function splitScore(id: string, seed: number): number {
  checkSeed(seed);
  const digest = createHash("sha256").update(`${seed}\u0000${id}`).digest();
  return digest.readUIntBE(0, SCORE_BYTES) / SCORE_RANGE;
}

export function assignSplit(id: string, fraction: number, seed: number): SplitPart {
  checkSplitFraction(fraction);
  return splitScore(id, seed) < fraction ? "validation" : "train";
}

/**
 * Splits a whole list. A hash split of a handful of pairs can leave one side empty, and a provider refuses
 * an empty validation file; then the one pair nearest the threshold changes side. Only this in-memory form
 * can see that, so a streaming export wanting the same guarantee should split its ids here first.
 */
export function splitTrainValidation(ids: Iterable<string>, fraction: number, seed: number): Split<string>;
export function splitTrainValidation<T>(
  items: Iterable<T>,
  fraction: number,
  seed: number,
  idOf: (item: T) => string,
): Split<T>;
export function splitTrainValidation<T>(
  items: Iterable<T>,
  fraction: number,
  seed: number,
  idOf: (item: T) => string = String,
): Split<T> {
  checkSplitFraction(fraction);
  checkSeed(seed);
  const scored = Array.from(items, (item) => ({ item, score: splitScore(idOf(item), seed) }));
  const validation = scored.filter((entry) => entry.score < fraction);
  const train = scored.filter((entry) => entry.score >= fraction);
  if (scored.length >= 2 && validation.length === 0)
    moveNearest(train, validation, (a, b) => a.score - b.score);
  if (scored.length >= 2 && train.length === 0) moveNearest(validation, train, (a, b) => b.score - a.score);
  return { train: train.map((entry) => entry.item), validation: validation.map((entry) => entry.item) };
}

/** Moves the entry that sorts first from one side to the other, keeping the source's order otherwise. */
function moveNearest<E>(from: E[], to: E[], compare: (a: E, b: E) => number): void {
  let best = 0;
  for (let index = 1; index < from.length; index++) {
    if (compare(from[index] as E, from[best] as E) < 0) best = index;
  }
  to.push(...from.splice(best, 1));
}
