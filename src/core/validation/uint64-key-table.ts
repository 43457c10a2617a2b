/**
 * A hash table from 64-bit keys to 32-bit values in three typed arrays (open addressing, linear probing):
 * 12 bytes a slot, against the 50–100 bytes a `Map` entry with a hex-string key costs. Keys are hashes
 * already, so their low bits index the slots directly.
 */
import { fmix32 } from "../hash.js";
/** A 64-bit key as two unsigned 32-bit halves. */
export interface Key64 {
  hi: number;
  lo: number;
}

/**
 * Two murmur3 lanes with different seeds over the UTF-16 code units: 64 bits, so at a million texts the
 * chance of any two colliding is about 3 in 100 million. Not cryptographic, and need not be: a crafted
 * collision could only make one pair look like a duplicate of another in its own dataset. sha256 gives
 * the same odds at fifteen times the cost, a third of validation time.
 */
export function textKey(text: string): Key64 {
  let a = 0x9747b28c;
  let b = 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const k = Math.imul(rotl(Math.imul(text.charCodeAt(i), 0xcc9e2d51), 15), 0x1b873593);
    a = (Math.imul(rotl(a ^ k, 13), 5) + 0xe6546b64) | 0;
    b = (Math.imul(rotl(b ^ k, 17), 9) + 0x52dce729) | 0;
  }
  return { hi: fmix32(b ^ text.length), lo: fmix32(a ^ text.length) };
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

const MAX_LOAD = 0.7;

export class Uint64KeyTable {
  private his: Uint32Array;
  private los: Uint32Array;
  /** The value plus one, so that 0 marks an empty slot without a fourth array. */
  private values: Uint32Array;
  private count = 0;

  /** Sized to hold `expectedEntries` without growing. */
  constructor(expectedEntries = 700) {
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(2, expectedEntries / MAX_LOAD)));
    this.his = new Uint32Array(capacity);
    this.los = new Uint32Array(capacity);
    this.values = new Uint32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held, empty slots included. */
  get byteLength(): number {
    return this.his.byteLength + this.los.byteLength + this.values.byteLength;
  }

  get(hi: number, lo: number): number | undefined {
    const slot = this.find(hi >>> 0, lo >>> 0);
    const stored = this.values[slot] as number;
    return stored === 0 ? undefined : stored - 1;
  }

  /** `value` must be below 2^32 − 1. */
  set(hi: number, lo: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value >= 0xffffffff) {
      throw new RangeError(`value must be an integer in [0, 2^32 - 1), got ${value}`);
    }
    const slot = this.find(hi >>> 0, lo >>> 0);
    if (this.values[slot] === 0) {
      this.his[slot] = hi;
      this.los[slot] = lo;
      this.count++;
    }
    this.values[slot] = value + 1;
    if (this.count > this.values.length * MAX_LOAD) this.grow();
  }

  /** The slot holding the key, or the empty slot where it would go. */
  private find(hi: number, lo: number): number {
    const mask = this.values.length - 1;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    while (this.values[slot] !== 0 && (this.his[slot] !== hi || this.los[slot] !== lo)) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  private grow(): void {
    const { his, los, values } = this;
    const capacity = values.length * 2;
    this.his = new Uint32Array(capacity);
    this.los = new Uint32Array(capacity);
    this.values = new Uint32Array(capacity);
    for (let i = 0; i < values.length; i++) {
      const stored = values[i] as number;
      if (stored === 0) continue;
      const slot = this.find(his[i] as number, los[i] as number);
      this.his[slot] = his[i] as number;
      this.los[slot] = los[i] as number;
      this.values[slot] = stored;
    }
  }
}
