import { BandBuckets } from "./band-buckets.js";
import { bandKeys, DEFAULT_MINHASH, lshParams, type TextFingerprint } from "./near-duplicates.js";

/**
 * Which of a project's kept (non-duplicate) chunks a new chunk could repeat: those sharing the first 32
 * bits of its content hash or the key of one of its LSH bands. It holds no signatures — a few hundred
 * bytes a kept chunk (19 keys with their chain links, the id), where a signature alone is 512 — so
 * candidates are confirmed against their stored signatures (`markDuplicates`). Kept in memory because
 * looking band keys up in the database cost more than all of chunking, scoring and fingerprinting
 * together (a row per band, 18 a chunk).
 */
export class KeptChunkIndex {
  private readonly buckets: BandBuckets;
  private readonly ids: string[] = [];

  constructor(
    readonly threshold: number,
    private readonly numHashes = DEFAULT_MINHASH.numHashes,
  ) {
    this.buckets = new BandBuckets(1 + lshParams(numHashes, threshold).bands);
  }

  get size(): number {
    return this.ids.length;
  }

  add(id: string, chunk: TextFingerprint): void {
    this.buckets.add(this.keysOf(chunk));
    this.ids.push(id);
  }

  /** Ids of kept chunks that could repeat any of `chunks`, each once, oldest first. */
  candidates(chunks: Iterable<TextFingerprint>): string[] {
    const targets = new Set<number>();
    for (const chunk of chunks) {
      for (const target of this.buckets.candidates(this.keysOf(chunk))) targets.add(target);
    }
    return [...targets].sort((a, b) => a - b).map((target) => this.ids[target] as string);
  }

  private keysOf({ contentHash, signature }: TextFingerprint): number[] {
    if (signature.length !== this.numHashes) {
      throw new RangeError(`expected a signature of ${this.numHashes} hashes, got ${signature.length}`);
    }
    return [Number.parseInt(contentHash.slice(0, 8), 16), ...bandKeys(signature, this.threshold)];
  }
}
