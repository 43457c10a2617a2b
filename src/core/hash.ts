/**
 * murmur3's 32-bit finaliser: every input bit flips each output bit with probability ½. FNV and other
 * cheap hashes avalanche poorly on their own; MinHash permutations and hash tables need every bit mixed.
 * Stored MinHash signatures depend on it (see near-duplicates.ts): it must not change.
 */
export function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
