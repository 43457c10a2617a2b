/**
 * LSH buckets for hundreds of thousands of texts in a few bytes each: every target has the same number of
 * 32-bit keys (one per band, and whatever else the caller keys it by), and each key is an entry in a chain
 * through typed arrays, where a `Map` of arrays would cost 50–100 bytes an entry. Keys are hashes, so two
 * texts sharing a key are only candidates: callers confirm them.
 */

import { GrowingUint32Array } from "./growing-uint32-array.js";
import { fmix32 } from "./hash.js";

const NONE = 0xffffffff;
/**
 * A chain holds the entries of every key that hashes to its slot, so a common key can make it long;
 * inspecting at most this many entries a key bounds the work per text. Near-identical texts share
 * several bands, so a match cut off in one band is still found through another.
 */
const MAX_ENTRIES_PER_KEY = 64;

/** One murmur3 lane seeded with the band, so equal rows in different bands make different keys. */
export function bandKey(signature: Uint32Array, band: number, rows: number): number {
  let h = Math.imul(band + 1, 0x9e3779b1);
  for (let i = band * rows; i < (band + 1) * rows; i++) {
    const k = Math.imul(signature[i] as number, 0xcc9e2d51);
    h ^= Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  return fmix32(h ^ rows);
}

export class BandBuckets {
  /** Entry e is key `e % keysPerTarget` of target `⌊e / keysPerTarget⌋`. */
  private readonly entryKeys: GrowingUint32Array;
  /** Per entry: the next older entry in the same chain, or NONE. */
  private readonly entryLinks: GrowingUint32Array;
  /** Per slot: the newest entry of its chain, or NONE; at least as many slots as entries. */
  private heads: Uint32Array;

  /** `expectedTargets` sizes the arrays once when the caller knows how many targets will come. */
  constructor(
    readonly keysPerTarget: number,
    expectedTargets = 0,
  ) {
    const entries = keysPerTarget * Math.max(64, expectedTargets);
    this.entryKeys = new GrowingUint32Array(entries);
    this.entryLinks = new GrowingUint32Array(entries);
    this.heads = new Uint32Array(2 ** Math.ceil(Math.log2(entries))).fill(NONE);
  }

  get targets(): number {
    return this.entryKeys.length / this.keysPerTarget;
  }

  get entries(): number {
    return this.entryKeys.length;
  }

  get byteLength(): number {
    return this.entryKeys.byteLength + this.entryLinks.byteLength + this.heads.byteLength;
  }

  /** Adds a target under its keys (exactly `keysPerTarget` of them) and returns its number, from 0. */
  add(keys: readonly number[]): number {
    if (keys.length !== this.keysPerTarget) {
      throw new RangeError(`expected ${this.keysPerTarget} keys, got ${keys.length}`);
    }
    const target = this.targets;
    for (const key of keys) this.addEntry(key >>> 0);
    return target;
  }

  /** Targets sharing at least one key in the same position; a chain also holds other keys, told apart. */
  candidates(keys: readonly number[]): Set<number> {
    const found = new Set<number>();
    const mask = this.heads.length - 1;
    const entryKeys = this.entryKeys.view();
    const entryLinks = this.entryLinks.view();
    keys.forEach((signed, position) => {
      const key = signed >>> 0;
      let entry = this.heads[key & mask] as number;
      for (let seen = 0; entry !== NONE && seen < MAX_ENTRIES_PER_KEY; seen++) {
        if (entryKeys[entry] === key && entry % this.keysPerTarget === position) {
          found.add(Math.floor(entry / this.keysPerTarget));
        }
        entry = entryLinks[entry] as number;
      }
    });
    return found;
  }

  private addEntry(key: number): void {
    const entry = this.entryKeys.length;
    if (entry >= this.heads.length) this.growHeads();
    const slot = key & (this.heads.length - 1);
    this.entryKeys.push(key);
    this.entryLinks.push(this.heads[slot] as number);
    this.heads[slot] = entry;
  }

  /** Relinks every entry oldest first, so each chain stays newest first. */
  private growHeads(): void {
    this.heads = new Uint32Array(this.heads.length * 2).fill(NONE);
    const mask = this.heads.length - 1;
    const keys = this.entryKeys.view();
    const links = this.entryLinks.view();
    for (let entry = 0; entry < keys.length; entry++) {
      const slot = (keys[entry] as number) & mask;
      links[entry] = this.heads[slot] as number;
      this.heads[slot] = entry;
    }
  }
}
