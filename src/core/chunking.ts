/** How a project cuts its documents into chunks and marks near-duplicates; a document keeps what it had. */
export interface Chunking {
  chunkTargetTokens: number;
  chunkOverlapTokens: number;
  duplicateThreshold: number;
}

/**
 * Whether a document was processed with other chunking than its project has now. Sent again, it is chunked
 * anew; until then it keeps its chunks, which no longer match as duplicates those of documents chunked the
 * new way.
 */
export const chunkedOtherwise = (document: Chunking, project: Chunking): boolean =>
  document.chunkTargetTokens !== project.chunkTargetTokens ||
  document.chunkOverlapTokens !== project.chunkOverlapTokens ||
  document.duplicateThreshold !== project.duplicateThreshold;

/** Chunking as the CLI and the web app say it: "chunks of 512 tokens, 50 shared, duplicates from Jaccard 0.8". */
export const chunkingText = (c: Chunking) =>
  `chunks of ${c.chunkTargetTokens} tokens, ${c.chunkOverlapTokens} shared, duplicates from Jaccard ${c.duplicateThreshold}`;

/** A chunk as people count, from 1: "#3" for the chunk at index 2, in the CLI and the web app alike. */
export const chunkNumber = (chunkIndex: number) => `#${chunkIndex + 1}`;
