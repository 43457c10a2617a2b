import { useEffect, useState } from "react";
import { api } from "./api";

interface Chunk {
  id: string;
  chunkIndex: number;
  text: string;
  headingPath: string[];
  tokenCount: number;
  pageStart: number | null;
  qualityScore: number;
  isDuplicate: boolean;
  duplicateSimilarity: number | null;
  injection: { flagged: boolean; reasons: { rule: string; excerpt: string }[] };
}

const PAGE_SIZE = 20;
const PREVIEW_CHARS = 280;

function facts(chunk: Chunk): string {
  return [
    `#${chunk.chunkIndex + 1}`,
    chunk.headingPath.join(" > "),
    chunk.pageStart === null ? "" : `page ${chunk.pageStart}`,
    `${chunk.tokenCount} tokens`,
    `quality ${chunk.qualityScore.toFixed(2)}`,
    chunk.isDuplicate
      ? `duplicate (${Math.round((chunk.duplicateSimilarity ?? 1) * 100)}% like an earlier chunk)`
      : "",
    chunk.injection.flagged
      ? `flagged for prompt injection: ${chunk.injection.reasons.map((r) => r.rule).join(", ")}`
      : "",
  ]
    .filter(Boolean)
    .join(" · ");
}

/** A document's chunks, as the generator will see them: text, heading path, scores and flags. */
export function ChunksList({ projectId, documentId }: { projectId: string; documentId: string }) {
  const [page, setPage] = useState<{ total: number; chunks: Chunk[] }>();
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState("");

  useEffect(() => {
    const query = new URLSearchParams({ documentId, limit: String(PAGE_SIZE), offset: String(offset) });
    api<{ total: number; chunks: Chunk[] }>("GET", `/api/projects/${projectId}/chunks?${query}`)
      .then(setPage)
      .catch((caught) => setError((caught as Error).message));
  }, [projectId, documentId, offset]);

  if (error) return <p role="alert">{error}</p>;
  if (!page) return <p className="muted">Loading chunks…</p>;
  return (
    <div>
      <ol aria-label="Chunks" className="projects">
        {page.chunks.map((chunk) => (
          <li key={chunk.id}>
            <p className="muted">{facts(chunk)}</p>
            {chunk.text.length <= PREVIEW_CHARS ? (
              <p className="chunk-text">{chunk.text}</p>
            ) : (
              <details>
                <summary className="chunk-text">{chunk.text.slice(0, PREVIEW_CHARS)}…</summary>
                <p className="chunk-text">{chunk.text}</p>
              </details>
            )}
          </li>
        ))}
      </ol>
      {page.total > PAGE_SIZE && (
        <p className="actions">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(offset - PAGE_SIZE)}>
            Previous chunks
          </button>
          <button
            type="button"
            disabled={offset + PAGE_SIZE >= page.total}
            onClick={() => setOffset(offset + PAGE_SIZE)}
          >
            Next chunks
          </button>
        </p>
      )}
    </div>
  );
}
