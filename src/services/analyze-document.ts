import { randomUUID } from "node:crypto";
import { type AnalyzedChunk, analyzeChunk } from "../core/analyze-chunks.js";
import { chunkBlocks } from "../core/chunk-blocks.js";
import type { DocumentType } from "../core/document-types.js";
import { parseDocument } from "../parsers/parse-document.js";

/** How a project chunks its documents. */
export interface ChunkingSettings {
  chunkTargetTokens: number;
  chunkOverlapTokens: number;
}

/** A document's chunks, each scored, scanned and fingerprinted: all of processing but the database's part. */
export async function analyzeDocument(
  type: DocumentType,
  bytes: Uint8Array,
  chunking: ChunkingSettings,
): Promise<AnalyzedChunk[]> {
  const drafts = chunkBlocks(await parseDocument(type, bytes), {
    targetTokens: chunking.chunkTargetTokens,
    overlapTokens: chunking.chunkOverlapTokens,
  });
  return drafts.map((draft) => analyzeChunk(randomUUID(), draft));
}
