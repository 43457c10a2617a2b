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
}

export interface Promotion {
  /** Copies that become kept chunks. */
  promoted: string[];
  /** Other copies of the same original, now pointing at the promoted one. */
  repointed: { id: string; duplicateOf: string }[];
}

/**
 * When kept chunks are deleted, their copies must not stay marked as duplicates of nothing: the first copy
 * of each (oldest first) takes the original's place, and the others become its duplicates.
 */
export function promoteOrphans(orphans: readonly OrphanedCopy[]): Promotion {
  const replacement = new Map<string, string>();
  const result: Promotion = { promoted: [], repointed: [] };
  for (const orphan of orphans) {
    const heir = replacement.get(orphan.duplicateOf);
    if (heir) {
      result.repointed.push({ id: orphan.id, duplicateOf: heir });
    } else {
      replacement.set(orphan.duplicateOf, orphan.id);
      result.promoted.push(orphan.id);
    }
  }
  return result;
}
