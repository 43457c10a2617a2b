import type { ChunkDraft } from "./chunk-blocks.js";
import { type ChunkQuality, scoreChunkQuality } from "./chunk-quality.js";
import { type InjectionScan, scanForInjection } from "./injection-scan.js";
import {
  fingerprint,
  NearDuplicateIndex,
  signatureFromBytes,
  type TextFingerprint,
} from "./near-duplicates.js";

/** What FineFlow learns about one chunk before storing it. */
export interface AnalyzedChunk {
  id: string;
  draft: ChunkDraft;
  quality: ChunkQuality;
  injection: InjectionScan;
  fingerprint: TextFingerprint;
}

export function analyzeChunk(id: string, draft: ChunkDraft): AnalyzedChunk {
  return {
    id,
    draft,
    quality: scoreChunkQuality(draft.text, draft.tokenCount),
    injection: scanForInjection(draft.text),
    fingerprint: fingerprint(draft.text),
  };
}

export interface EarlierChunk {
  id: string;
  contentHash: string;
  minhash: Uint8Array;
}

export interface DuplicateMark {
  duplicateOf: string;
  similarity: number;
}

/**
 * Decides which new chunks repeat an earlier one, exactly or nearly. `earlier` are the project's kept
 * chunks that could repeat them (`KeptChunkIndex`), oldest first; the new chunks come in document
 * order, so of two copies the later one is the duplicate and `duplicateOf` always names a kept chunk.
 */
export function markDuplicates(
  chunks: readonly AnalyzedChunk[],
  earlier: readonly EarlierChunk[],
  threshold: number,
): Map<string, DuplicateMark> {
  const index = new NearDuplicateIndex(threshold);
  for (const chunk of earlier) {
    index.addKept(chunk.id, chunk.contentHash, signatureFromBytes(chunk.minhash));
  }
  const marks = new Map<string, DuplicateMark>();
  for (const chunk of chunks) {
    const check = index.addFingerprint(chunk.id, chunk.fingerprint);
    if (check.duplicateOf !== undefined) {
      marks.set(chunk.id, { duplicateOf: check.duplicateOf, similarity: check.similarity });
    }
  }
  return marks;
}

export interface OrphanedCopy {
  id: string;
  duplicateOf: string;
  /** The copy's normalised-text hash, and its deleted original's: equal for an exact copy. */
  contentHash: string;
  originalHash: string;
}

export interface Promotion {
  /** Copies that become kept chunks. */
  promoted: string[];
  /** Other copies, now pointing at a promoted one; `similarity` when it is no longer the one stored. */
  repointed: { id: string; duplicateOf: string; similarity?: number }[];
}

/**
 * When kept chunks are deleted, their copies must not stay marked as duplicates of nothing. The first exact
 * copy of an original (oldest first) takes its place, and the others become its duplicates, each as like it
 * as it was like the original, since the two texts are the same. Without an exact copy, each copy is kept:
 * how like one another two near copies of a third are is not known (0.92 and 0.85 like it, they were 0.75
 * like each other in QA), and a chunk wrongly marked a duplicate is left out of datasets. Only exact copies
 * among them are marked again, of the first of their text.
 */
export function promoteOrphans(orphans: readonly OrphanedCopy[]): Promotion {
  const result: Promotion = { promoted: [], repointed: [] };
  const byOriginal = new Map<string, OrphanedCopy[]>();
  for (const orphan of orphans) {
    const copies = byOriginal.get(orphan.duplicateOf);
    if (copies) copies.push(orphan);
    else byOriginal.set(orphan.duplicateOf, [orphan]);
  }
  for (const copies of byOriginal.values()) {
    const heir = copies.find((copy) => copy.contentHash === copy.originalHash);
    if (heir) {
      result.promoted.push(heir.id);
      for (const copy of copies) {
        if (copy !== heir) result.repointed.push({ id: copy.id, duplicateOf: heir.id });
      }
      continue;
    }
    const firstOfText = new Map<string, string>();
    for (const copy of copies) {
      const first = firstOfText.get(copy.contentHash);
      if (first) {
        result.repointed.push({ id: copy.id, duplicateOf: first, similarity: 1 });
      } else {
        firstOfText.set(copy.contentHash, copy.id);
        result.promoted.push(copy.id);
      }
    }
  }
  return result;
}
