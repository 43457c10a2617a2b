import { useEffect, useState } from "react";
import { counted } from "../../src/core/counted";
import { api } from "./api";

interface Chunk {
  id: string;
  documentId: string;
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

/** Where the last page with chunks starts: the first page's 0 when there are none. */
const lastPageOffset = (total: number) => Math.max(0, Math.ceil(total / PAGE_SIZE) - 1) * PAGE_SIZE;

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

/** Chunks with a flag shown, only those, or those hidden, as the chunks API takes it. */
type OnlyOrExclude = "" | "only" | "exclude";

/** What the list is narrowed to; "" is no filter. */
interface Filters {
  minQuality: string;
  duplicates: OnlyOrExclude;
  flagged: OnlyOrExclude;
}

function FlagFilter(props: {
  label: string;
  value: OnlyOrExclude;
  onChange: (value: OnlyOrExclude) => void;
  only: string;
  hidden: string;
}) {
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(e) => props.onChange(e.target.value as OnlyOrExclude)}>
        <option value="">shown</option>
        <option value="only">{props.only}</option>
        <option value="exclude">{props.hidden}</option>
      </select>
    </label>
  );
}

const NO_FILTERS: Filters = { minQuality: "", duplicates: "", flagged: "" };

/**
 * Chunks as the generator will see them — text, heading path, scores and flags — of one document, or of the
 * whole project with each chunk's document named; narrowed by quality, duplicates and injection flags.
 */
export function ChunksList({
  projectId,
  documentId,
  documentNames,
  chunkTotal,
}: {
  projectId: string;
  documentId?: string;
  /** Given for a project-wide list: each chunk's document name, by id. */
  documentNames?: ReadonlyMap<string, string>;
  /** How many chunks the project has: the list reloads when documents processed meanwhile change it. */
  chunkTotal?: number;
}) {
  const [page, setPage] = useState<{ total: number; chunks: Chunk[] }>();
  const [offset, setOffset] = useState(0);
  const [filters, setFilters] = useState(NO_FILTERS);
  const [error, setError] = useState("");

  // biome-ignore lint/correctness/useExhaustiveDependencies: chunkTotal is not read, it is when to read again
  useEffect(() => {
    // Filters changed quickly may answer out of order: only the answer to the newest request is shown.
    let newest = true;
    const set = Object.entries({ ...filters, documentId: documentId ?? "" }).filter(([, value]) => value);
    const query = new URLSearchParams([...set, ["limit", String(PAGE_SIZE)], ["offset", String(offset)]]);
    api<{ total: number; chunks: Chunk[] }>("GET", `/api/projects/${projectId}/chunks?${query}`)
      .then((answer) => {
        if (!newest) return;
        // Chunks deleted meanwhile (with their document, say) may leave this page past the end: the list would
        // show none, and no buttons to page back with.
        if (offset > 0 && offset >= answer.total) {
          setOffset(lastPageOffset(answer.total));
          return;
        }
        setPage(answer);
        setError(""); // a later reload recovers from a failed one
      })
      .catch((caught) => newest && setError((caught as Error).message));
    return () => {
      newest = false;
    };
  }, [projectId, documentId, filters, offset, chunkTotal]);

  const filter = (change: Partial<Filters>) => {
    setFilters({ ...filters, ...change });
    setOffset(0);
  };

  if (error) return <p role="alert">{error}</p>;
  if (!page) return <p className="muted">Loading chunks…</p>;
  return (
    <div>
      <fieldset className="filters" aria-label="Filter chunks">
        <label>
          Quality at least
          <select value={filters.minQuality} onChange={(e) => filter({ minQuality: e.target.value })}>
            <option value="">any</option>
            {["0.3", "0.5", "0.7", "0.9"].map((q) => (
              <option key={q}>{q}</option>
            ))}
          </select>
        </label>
        <FlagFilter
          label="Duplicates"
          value={filters.duplicates}
          onChange={(duplicates) => filter({ duplicates })}
          only="only"
          hidden="hidden"
        />
        <FlagFilter
          label="Injection flags"
          value={filters.flagged}
          onChange={(flagged) => filter({ flagged })}
          only="flagged only"
          hidden="flagged hidden"
        />
      </fieldset>
      <p className="muted" role="status" aria-label="Chunk count">
        {counted(page.total, "chunk")}
      </p>
      <ol aria-label="Chunks" className="projects">
        {page.chunks.map((chunk) => (
          <li key={chunk.id}>
            <p className="muted">
              {documentNames ? `${documentNames.get(chunk.documentId) ?? "deleted document"} · ` : ""}
              {facts(chunk)}
            </p>
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
