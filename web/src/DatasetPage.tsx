import { useCallback, useEffect, useRef, useState } from "react";
import { api, type Dataset, type Pair } from "./api";
import { progressText } from "./DatasetItem";
import { CancelGeneration, DatasetTools } from "./DatasetTools";
import { inFormTerms, useSubmit } from "./forms";
import { PairCard } from "./PairCard";
import { PAGE_SIZE, pageWithin } from "./paging";
import { usePolling } from "./usePolling";

interface Filter {
  status: "" | "accepted" | "rejected";
  valid: "" | "true" | "false";
  search: string;
  sort: "created" | "quality" | "tokens";
}

const NO_FILTER: Filter = { status: "", valid: "", search: "", sort: "created" };

function query(filter: Filter, offset: number): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset), sort: filter.sort });
  if (filter.sort !== "created") params.set("order", "desc");
  if (filter.status) params.set("status", filter.status);
  if (filter.valid) params.set("valid", filter.valid);
  if (filter.search.trim()) params.set("search", filter.search.trim());
  return params.toString();
}

/** Why the pairs cannot be changed now, as the API would refuse it (409); undefined when they can. */
function lockedBecause(status: Dataset["status"]): string | undefined {
  if (status === "generating") {
    return "Still generating: pairs can be edited, added, restored and deleted, and the system prompt set, once it is ready.";
  }
  if (status === "training") {
    return "A training job uses this dataset: pairs and the system prompt can be changed once it ends.";
  }
  return undefined;
}

/** The dataset-wide system prompt. */
function SystemPromptForm({
  dataset,
  locked,
  onSaved,
}: {
  dataset: Dataset;
  locked: boolean;
  onSaved: () => Promise<unknown>;
}) {
  const [saved, setSaved] = useState(false);
  const { error, submit } = useSubmit(
    () => {
      setSaved(true);
      return onSaved();
    },
    (caught) => inFormTerms(caught, { systemPrompt: "System prompt" }),
  );
  return (
    <form
      aria-label="System prompt"
      onSubmit={(event) => {
        setSaved(false);
        return submit(event, (form) => {
          const text = String(form.get("systemPrompt") ?? "").trim();
          return api("PATCH", `/api/datasets/${dataset.id}`, { systemPrompt: text === "" ? null : text });
        });
      }}
    >
      <label>
        {/* A pair's own system message wins over it (src/core/export/turns.ts). */}
        System prompt, applied at export to every pair without a system message of its own
        <textarea
          name="systemPrompt"
          rows={2}
          defaultValue={dataset.systemPrompt ?? ""}
          key={dataset.systemPrompt}
          disabled={locked}
          // Typed into since: what is in the box is no longer what was saved.
          onChange={() => setSaved(false)}
        />
      </label>
      <button type="submit" disabled={locked}>
        Save system prompt
      </button>
      {error && <p role="alert">{error}</p>}
      {saved && <p role="status">Saved.</p>}
    </form>
  );
}

/** A pair written by hand: a question and its answer. */
function AddPairForm({
  datasetId,
  locked,
  onAdded,
}: {
  datasetId: string;
  /** Why no pair can be added now, if so. */
  locked?: string;
  onAdded: () => Promise<unknown>;
}) {
  const { error, submit } = useSubmit(onAdded, (caught) => inFormTerms(caught, {}, ["Question", "Answer"]));
  return (
    <form
      aria-label="Add pair"
      onSubmit={(event) =>
        submit(event, (form) =>
          api("POST", `/api/datasets/${datasetId}/pairs`, {
            messages: [
              { role: "user", content: form.get("question") },
              { role: "assistant", content: form.get("answer") },
            ],
          }),
        )
      }
    >
      {/* Said here too: the page's note of it is a long way up. */}
      {locked && <p className="muted">{locked}</p>}
      <label>
        Question <textarea name="question" rows={2} required disabled={locked !== undefined} />
      </label>
      <label>
        Answer <textarea name="answer" rows={3} required disabled={locked !== undefined} />
      </label>
      <button type="submit" disabled={locked !== undefined}>
        Add pair
      </button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}

/**
 * The seed's dataset detail page: the pair editor, with the dataset-wide system prompt. It follows the
 * dataset as it generates, its pairs locked until generation ends.
 */
export function DatasetPage({ id }: { id: string }) {
  const [dataset, setDataset] = useState<Dataset>();
  /** The page shown, with the offset it was asked at (the next one's, already set, may still be on its way). */
  const [page, setPage] = useState<{ offset: number; total: number; pairs: Pair[] }>({
    offset: 0,
    total: 0,
    pairs: [],
  });
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [offset, setOffset] = useState(0);
  /** A failed load, until one succeeds; an action's refusal is said beside its form or card instead. */
  const [loadError, setLoadError] = useState("");
  const pairsHeading = useRef<HTMLHeadingElement>(null);
  const filterForm = useRef<HTMLFormElement>(null);
  const cards = useRef<HTMLUListElement>(null);
  /** The place in the list of the card just changed, until the reload after the change shows. */
  const changedAt = useRef<number>(undefined);

  // Loads can overlap (an edit finishing after the filters changed): only the newest one is shown.
  const newest = useRef(0);
  const load = useCallback(async () => {
    const request = ++newest.current;
    try {
      const [d, p] = await Promise.all([
        api<Dataset>("GET", `/api/datasets/${id}`),
        api<{ total: number; pairs: Pair[] }>("GET", `/api/datasets/${id}/pairs?${query(filter, offset)}`),
      ]);
      if (request !== newest.current) return;
      setDataset(d);
      setLoadError("");
      // The last pairs of the last page deleted (here or elsewhere): the page before, not an empty one.
      const within = pageWithin(offset, p.total);
      if (within !== undefined) {
        // The card next to a pair deleted here is then the last of that page.
        if (changedAt.current !== undefined) changedAt.current = Number.POSITIVE_INFINITY;
        return setOffset(within);
      }
      setPage({ ...p, offset });
    } catch (caught) {
      if (request === newest.current) setLoadError((caught as Error).message);
    }
  }, [id, filter, offset]);
  // A form that finishes late reloads with the filters of now, not those of when it was submitted.
  const current = useRef(load);
  current.current = load;
  const reload = useCallback(() => current.current(), []);

  useEffect(() => {
    load();
  }, [load]);
  // Every second while it generates, so that its pairs show as they come and the controls unlock when it ends.
  usePolling(load, dataset?.status === "generating");

  // biome-ignore lint/correctness/useExhaustiveDependencies: page is not read, it is when the reload has shown
  useEffect(() => {
    const at = changedAt.current;
    if (at === undefined) return;
    changedAt.current = undefined;
    // The card's action took it off the page (deleted, or no longer matching the filters), and the focus on
    // its button with it: the focus goes to the card now in its place, or to the heading when none is left.
    if (document.activeElement && document.activeElement !== document.body) return;
    const shown = cards.current?.children ?? [];
    ((shown[Math.min(at, shown.length - 1)] as HTMLElement | undefined) ?? pairsHeading.current)?.focus();
  }, [page]);

  function filterFrom(form: FormData): Filter {
    return {
      status: form.get("status") as Filter["status"],
      valid: form.get("valid") as Filter["valid"],
      search: String(form.get("search") ?? ""),
      sort: form.get("sort") as Filter["sort"],
    };
  }

  /** A pair named by validation: the list searches for its short id, as if typed in the search field. */
  const findPair = (shortId: string) => {
    const form = filterForm.current;
    if (!form) return;
    // No other filter may hide it.
    form.reset();
    form.search.value = shortId;
    form.requestSubmit();
    // The list is further down: the focus takes the reader there.
    pairsHeading.current?.focus();
  };
  /** A filter's choice applies at once, as the chunk list's do; typed search text waits for Enter or Apply. */
  const applyNow = (event: { currentTarget: HTMLSelectElement }) => event.currentTarget.form?.requestSubmit();

  const alert = loadError && <p role="alert">{loadError}</p>;
  if (!dataset) return <main>{alert || <p className="muted">Loading…</p>}</main>;
  const locked = lockedBecause(dataset.status);
  const last = page.offset + page.pairs.length;
  return (
    <main>
      <p>
        <a href={`#project/${dataset.projectId}`}>← Project</a>
      </p>
      <h1 className="name">{dataset.name}</h1>
      <p className="muted">
        {dataset.status}
        {dataset.progress && ` (${progressText(dataset)})`} · {dataset.mode} · exported as {dataset.format} by
        default
      </p>
      {locked && <p role="status">{locked}</p>}
      <CancelGeneration dataset={dataset} onCancelled={reload} />
      {alert}

      <SystemPromptForm dataset={dataset} locked={locked !== undefined} onSaved={reload} />

      {(dataset.status === "ready" || dataset.status === "training") && (
        <section aria-label="Validation and export">
          <h2>Validation and export</h2>
          <DatasetTools dataset={dataset} onFindPair={findPair} />
        </section>
      )}

      <h2 ref={pairsHeading} tabIndex={-1}>
        Pairs
      </h2>
      <form
        aria-label="Filter pairs"
        className="filters"
        ref={filterForm}
        onSubmit={(event) => {
          event.preventDefault();
          setOffset(0);
          setFilter(filterFrom(new FormData(event.currentTarget)));
        }}
      >
        <label>
          Status
          <select name="status" defaultValue="" onChange={applyNow}>
            <option value="">accepted and rejected</option>
            <option value="accepted">accepted</option>
            <option value="rejected">rejected</option>
          </select>
        </label>
        <label>
          Validity
          <select name="valid" defaultValue="" onChange={applyNow}>
            <option value="">any</option>
            <option value="false">with errors</option>
            <option value="true">without errors</option>
          </select>
        </label>
        <label>
          {/* The server matches an id's first digits as well as the text, as validation prints them. */}
          Search text, or an id <input name="search" type="search" maxLength={200} />
        </label>
        <label>
          Sort
          <select name="sort" defaultValue="created" onChange={applyNow}>
            <option value="created">as generated</option>
            <option value="quality">quality, best first</option>
            <option value="tokens">length, longest first</option>
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      <p role="status" aria-label="Pairs shown">
        {page.total === 0 ? "No pairs" : `Pairs ${page.offset + 1}–${last} of ${page.total}`}
      </p>
      <ul className="projects pairs" ref={cards}>
        {page.pairs.map((pair, i) => (
          <PairCard
            key={pair.id}
            pair={pair}
            locked={locked !== undefined}
            onChanged={() => {
              changedAt.current = i;
              return reload();
            }}
          />
        ))}
      </ul>
      <p className="actions">
        <button
          type="button"
          disabled={page.offset === 0}
          onClick={() => setOffset(Math.max(0, page.offset - PAGE_SIZE))}
        >
          Previous
        </button>
        <button
          type="button"
          disabled={last >= page.total}
          onClick={() => setOffset(page.offset + PAGE_SIZE)}
        >
          Next
        </button>
      </p>

      <h2>Add a pair</h2>
      <AddPairForm datasetId={id} locked={locked} onAdded={reload} />
    </main>
  );
}
