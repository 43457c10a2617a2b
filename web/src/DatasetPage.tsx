import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { api, type Dataset, type Pair, type PairMessage } from "./api";
import { submitForm } from "./forms";

const PAGE_SIZE = 20;

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

/** One pair: its messages, scores and flags; edited in place, every message's text at once. */
function PairCard({ pair, onChanged }: { pair: Pair; onChanged: (error?: unknown) => void }) {
  const [draft, setDraft] = useState<PairMessage[]>();

  async function act(action: () => Promise<unknown>) {
    try {
      await action();
      setDraft(undefined);
      onChanged();
    } catch (caught) {
      onChanged(caught);
    }
  }

  const facts = [
    pair.qualityScore === null ? "no quality score" : `quality ${pair.qualityScore.toFixed(2)}`,
    pair.tokenCount === null ? "" : `${pair.tokenCount} tokens`,
    pair.isValid ? "" : "has validation errors",
    pair.status === "rejected" ? `rejected: ${pair.rejectionReason ?? "no reason given"}` : "",
  ].filter(Boolean);

  return (
    <li aria-label={`Pair: ${pair.messages.find((m) => m.role === "user")?.content ?? pair.id}`}>
      <p className="muted">{facts.join(" · ")}</p>
      {draft ? (
        <form
          aria-label="Edit pair"
          onSubmit={(event) => {
            event.preventDefault();
            void act(() => api("PATCH", `/api/pairs/${pair.id}`, { messages: draft }));
          }}
        >
          {draft.map((message, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a pair's messages never move: their place is who they are
            <label key={i}>
              {message.role}
              <textarea
                value={message.content}
                rows={3}
                onChange={(event) =>
                  setDraft(draft.map((m, j) => (j === i ? { ...m, content: event.target.value } : m)))
                }
              />
            </label>
          ))}
          <p className="actions">
            <button type="submit">Save</button>
            <button type="button" onClick={() => setDraft(undefined)}>
              Cancel
            </button>
          </p>
        </form>
      ) : (
        <>
          <dl className="messages">
            {pair.messages.map((message, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a pair's messages never move: their place is who they are
              <div key={i}>
                <dt>{message.role}</dt>
                <dd>{message.content}</dd>
              </div>
            ))}
          </dl>
          <p className="actions">
            <button type="button" onClick={() => setDraft(pair.messages)}>
              Edit
            </button>
            {pair.status === "rejected" && (
              <button type="button" onClick={() => act(() => api("POST", `/api/pairs/${pair.id}/restore`))}>
                Restore
              </button>
            )}
            <button type="button" onClick={() => act(() => api("DELETE", `/api/pairs/${pair.id}`))}>
              Delete
            </button>
          </p>
        </>
      )}
    </li>
  );
}

/** The seed's dataset detail page: the pair editor, with the dataset-wide system prompt. */
export function DatasetPage({ id }: { id: string }) {
  const [dataset, setDataset] = useState<Dataset>();
  const [page, setPage] = useState<{ total: number; pairs: Pair[] }>({ total: 0, pairs: [] });
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState("");

  // Loads can overlap (an edit finishing after the filters changed): only the newest one is shown.
  const newest = useRef(0);
  const load = useCallback(async () => {
    const request = ++newest.current;
    const [d, p] = await Promise.all([
      api<Dataset>("GET", `/api/datasets/${id}`),
      api<{ total: number; pairs: Pair[] }>("GET", `/api/datasets/${id}/pairs?${query(filter, offset)}`),
    ]);
    if (request !== newest.current) return;
    setDataset(d);
    setPage(p);
  }, [id, filter, offset]);
  // A form that finishes late reloads with the filters of now, not those of when it was submitted.
  const current = useRef(load);
  current.current = load;

  const changed = useCallback((caught?: unknown) => {
    setError(caught ? (caught as Error).message : "");
    current.current().catch((e) => setError((e as Error).message));
  }, []);

  useEffect(() => {
    load().catch((e) => setError((e as Error).message));
  }, [load]);

  const submit = (event: FormEvent<HTMLFormElement>, action: (form: FormData) => Promise<unknown>) =>
    submitForm(event, action, changed, (caught) => setError((caught as Error).message));

  function filterFrom(form: FormData): Filter {
    return {
      status: form.get("status") as Filter["status"],
      valid: form.get("valid") as Filter["valid"],
      search: String(form.get("search") ?? ""),
      sort: form.get("sort") as Filter["sort"],
    };
  }

  if (!dataset) return <main>{error ? <p role="alert">{error}</p> : <p className="muted">Loading…</p>}</main>;
  const last = Math.min(offset + PAGE_SIZE, page.total);
  return (
    <main>
      <p>
        <a href={`#project/${dataset.projectId}`}>← Project</a>
      </p>
      <h1>{dataset.name}</h1>
      <p className="muted">
        {dataset.status} · {dataset.mode} · exported as {dataset.format} by default
      </p>
      {error && <p role="alert">{error}</p>}

      <form
        aria-label="System prompt"
        onSubmit={(event) =>
          submit(event, (form) => {
            const text = String(form.get("systemPrompt") ?? "").trim();
            return api("PATCH", `/api/datasets/${id}`, { systemPrompt: text === "" ? null : text });
          })
        }
      >
        <label>
          System prompt, applied to every pair at export
          <textarea
            name="systemPrompt"
            rows={2}
            defaultValue={dataset.systemPrompt ?? ""}
            key={dataset.systemPrompt}
          />
        </label>
        <button type="submit">Save system prompt</button>
      </form>

      <h2>Pairs</h2>
      <form
        aria-label="Filter pairs"
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setOffset(0);
          setFilter(filterFrom(new FormData(event.currentTarget)));
        }}
      >
        <label>
          Status
          <select name="status" defaultValue="">
            <option value="">accepted and rejected</option>
            <option value="accepted">accepted</option>
            <option value="rejected">rejected</option>
          </select>
        </label>
        <label>
          Validity
          <select name="valid" defaultValue="">
            <option value="">any</option>
            <option value="false">with errors</option>
            <option value="true">without errors</option>
          </select>
        </label>
        <label>
          Search <input name="search" type="search" maxLength={200} />
        </label>
        <label>
          Sort
          <select name="sort" defaultValue="created">
            <option value="created">as generated</option>
            <option value="quality">quality, best first</option>
            <option value="tokens">length, longest first</option>
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      <p role="status" aria-label="Pairs shown">
        {page.total === 0 ? "No pairs" : `Pairs ${offset + 1}–${last} of ${page.total}`}
      </p>
      <ul className="projects pairs">
        {page.pairs.map((pair) => (
          <PairCard key={pair.id} pair={pair} onChanged={changed} />
        ))}
      </ul>
      <p className="actions">
        <button
          type="button"
          disabled={offset === 0}
          onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}
        >
          Previous
        </button>
        <button type="button" disabled={last >= page.total} onClick={() => setOffset(offset + PAGE_SIZE)}>
          Next
        </button>
      </p>

      <h2>Add a pair</h2>
      <form
        aria-label="Add pair"
        onSubmit={(event) =>
          submit(event, (form) =>
            api("POST", `/api/datasets/${id}/pairs`, {
              messages: [
                { role: "user", content: form.get("question") },
                { role: "assistant", content: form.get("answer") },
              ],
            }),
          )
        }
      >
        <label>
          Question <textarea name="question" rows={2} required />
        </label>
        <label>
          Answer <textarea name="answer" rows={3} required />
        </label>
        <button type="submit">Add pair</button>
      </form>
    </main>
  );
}
