import { useEffect, useRef, useState } from "react";
import { type ChunkQuality, QUALITY_WEIGHTS } from "../../src/core/chunk-quality";
import { chunkNumber } from "../../src/core/chunking";
import { pageOf } from "../../src/core/counted";
import { api } from "./api";
import { PAGE_SIZE, pageWithin } from "./paging";

interface Chunk {
  id: string;
  documentId: string;
  chunkIndex: number;
  text: string;
  headingPath: string[];
  tokenCount: number;
  pageStart: number | null;
  pageEnd: number | null;
  qualityScore: number;
  qualityBreakdown: ChunkQuality["breakdown"];
  isDuplicate: boolean;
  duplicateOf: string | null;
  duplicateOfChunk: { documentId: string; chunkIndex: number } | null;
  duplicateSimilarity: number | null;
  injection: { flagged: boolean; reasons: { rule: string; excerpt: string }[] };
}

/** How often a list that failed to load asks again by itself. */
const RETRY_MS = 5000;
const PREVIEW_CHARS = 280;

function pages({ pageStart, pageEnd }: Chunk): string {
  if (pageStart === null) return "";
  return pageEnd === null || pageEnd === pageStart ? `page ${pageStart}` : `pages ${pageStart}–${pageEnd}`;
}

/** The factors of a chunk's quality score, in the order core lists them. */
const FACTORS = Object.keys(QUALITY_WEIGHTS) as (keyof ChunkQuality["breakdown"])[];

const quality = (chunk: Chunk) =>
  `quality ${chunk.qualityScore.toFixed(2)} (${FACTORS.map((f) => `${f} ${chunk.qualityBreakdown[f].toFixed(2)}`).join(", ")})`;

/** What a duplicate repeats: its original's document and place. */
function original(chunk: Chunk, documentNames: ReadonlyMap<string, string>) {
  const at = chunk.duplicateOfChunk;
  if (!at) return "an earlier chunk";
  return `${documentNames.get(at.documentId) ?? "a deleted document"} ${chunkNumber(at.chunkIndex)}`;
}

function facts(chunk: Chunk, repeated: string): string {
  return [
    chunkNumber(chunk.chunkIndex),
    chunk.headingPath.join(" > "),
    pages(chunk),
    `${chunk.tokenCount} tokens`,
    quality(chunk),
    chunk.isDuplicate
      ? `duplicate (${Math.round((chunk.duplicateSimilarity ?? 1) * 100)}% like ${repeated})`
      : "",
    chunk.injection.flagged
      ? `flagged for prompt injection: ${chunk.injection.reasons.map((r) => `${r.rule} ("${r.excerpt}")`).join(", ")}`
      : "",
  ]
    .filter(Boolean)
    .join(" · ");
}

/** A chunk's text; a long one previewed, and opened in place of its preview so that no part shows twice. */
function ChunkText({ text }: { text: string }) {
  const [open, setOpen] = useState(false);
  if (text.length <= PREVIEW_CHARS) return <p className="chunk-text">{text}</p>;
  return (
    <>
      <p className="chunk-text">{open ? text : `${text.slice(0, PREVIEW_CHARS)}…`}</p>
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? "Show less" : `Show all ${text.length} characters`}
      </button>
    </>
  );
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
  reloadKey,
}: {
  projectId: string;
  documentId?: string;
  /** The project's documents' names, by id: each chunk's in a project-wide list, and a duplicate's original's. */
  documentNames: ReadonlyMap<string, string>;
  /**
   * Changes when the project's documents do (processed, deleted): chunks then change too, a document's own
   * included (its duplicates are no longer duplicates once their original is deleted), so the list reloads.
   */
  reloadKey: string;
}) {
  /** The page shown, with the offset it was asked at (the next one's, already set, may still be on its way). */
  const [page, setPage] = useState<{ offset: number; total: number; chunks: Chunk[] }>();
  const [offset, setOffset] = useState(0);
  const [filters, setFilters] = useState(NO_FILTERS);
  const [error, setError] = useState("");
  /** Counts "Try again" clicks: each asks again for the same page, under the same filters. */
  const [attempt, setAttempt] = useState(0);
  const countLine = useRef<HTMLParagraphElement>(null);
  // A failed read is tried again now and then, as the page's own refresh is: the server may be back.
  useEffect(() => {
    if (!error) return;
    const timer = setInterval(() => setAttempt((n) => n + 1), RETRY_MS);
    return () => clearInterval(timer);
  }, [error]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: reloadKey and attempt are not read, they are when to read again
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
        const within = pageWithin(offset, answer.total);
        if (within !== undefined) return setOffset(within);
        setPage({ ...answer, offset });
        setError(""); // a later reload recovers from a failed one
      })
      .catch((caught) => newest && setError((caught as Error).message));
    return () => {
      newest = false;
    };
  }, [projectId, documentId, filters, offset, reloadKey, attempt]);

  const filter = (change: Partial<Filters>) => {
    setFilters({ ...filters, ...change });
    setOffset(0);
  };

  const turn = (to: number) => {
    setOffset(to);
    // The next page replaces this one in place: its first chunk is read from the top, where the focus goes.
    countLine.current?.focus();
  };

  const failure = error && (
    <p role="alert">
      {error}{" "}
      <button type="button" onClick={() => setAttempt(attempt + 1)}>
        Try again
      </button>
    </p>
  );
  if (!page) return failure || <p className="muted">Loading chunks…</p>;
  const last = page.offset + page.chunks.length;
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
      {failure}
      <p className="muted" role="status" aria-label="Chunk count" tabIndex={-1} ref={countLine}>
        {pageOf(page.offset, page.chunks.length, page.total, "chunk")}
      </p>
      <ol aria-label="Chunks" className="projects">
        {page.chunks.map((chunk) => (
          <li key={chunk.id}>
            <p className="muted name">
              {documentId ? "" : `${documentNames.get(chunk.documentId) ?? "deleted document"} · `}
              {facts(chunk, original(chunk, documentNames))}
            </p>
            <ChunkText text={chunk.text} />
          </li>
        ))}
      </ol>
      {page.total > PAGE_SIZE && (
        <p className="actions">
          <button type="button" disabled={page.offset === 0} onClick={() => turn(page.offset - PAGE_SIZE)}>
            Previous chunks
          </button>
          <button type="button" disabled={last >= page.total} onClick={() => turn(page.offset + PAGE_SIZE)}>
            Next chunks
          </button>
        </p>
      )}
    </div>
  );
}
