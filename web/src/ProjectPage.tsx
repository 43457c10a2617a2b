import { type FormEvent, useCallback, useEffect, useState } from "react";
import { counted } from "../../src/core/counted";
import { DOCUMENT_EXTENSIONS } from "../../src/core/document-types";
import { api, type Dataset, EXPORT_FORMATS, type Project, type ProjectDocument, upload } from "./api";
import { ChunksList } from "./ChunksList";
import { DatasetItem } from "./DatasetItem";
import { submitForm } from "./forms";
import { ProjectSettings } from "./ProjectSettings";

const MODES = ["auto", "qa", "instruction", "conversation"] as const;
/** While documents are processed or a dataset generated, the page asks again this often. */
const REFRESH_MS = 1000;

const busy = (documents: ProjectDocument[], datasets: Dataset[]) =>
  documents.some((d) => d.status === "pending" || d.status === "processing") ||
  datasets.some((d) => d.status === "generating");

/** What is worth a second look among a document's chunks, as the CLI's DUPLICATES and FLAGGED columns say. */
function ChunkNotes({ document: d }: { document: ProjectDocument }) {
  const notes = [
    d.duplicateChunks ? counted(d.duplicateChunks, "duplicate") : "",
    d.flaggedChunks ? `${d.flaggedChunks} flagged for injection` : "",
  ].filter(Boolean);
  return notes.length > 0 && <span className="muted"> ({notes.join(", ")})</span>;
}

/** A document's row in the documents table: its status and chunks, and what can be done with it. */
function DocumentRow({
  document: d,
  chunksShown,
  onToggleChunks,
  onDelete,
}: {
  document: ProjectDocument;
  chunksShown: boolean;
  onToggleChunks: () => void;
  /** Deletes the document and reloads the page's data, reporting a failure itself. */
  onDelete: () => Promise<unknown>;
}) {
  // Disabled while its delete runs, so that a double click deletes once instead of failing the second time on
  // a document already gone.
  const [deleting, setDeleting] = useState(false);
  const remove = () => {
    setDeleting(true);
    onDelete().finally(() => setDeleting(false));
  };
  return (
    <tr>
      <td>{d.name}</td>
      <td>
        {d.status}
        {d.error && <span className="muted"> — {d.error}</span>}
      </td>
      <td>
        {d.chunkCount}
        <ChunkNotes document={d} />
      </td>
      <td className="actions">
        {d.chunkCount > 0 && (
          <button type="button" onClick={onToggleChunks}>
            {chunksShown ? "Hide chunks" : "Show chunks"}
          </button>
        )}
        <button type="button" disabled={deleting} onClick={remove}>
          Delete
        </button>
      </td>
    </tr>
  );
}

/** One project: its documents (upload, status, chunks), its datasets (generate, validate, export) and settings. */
export function ProjectPage({ id }: { id: string }) {
  const [project, setProject] = useState<Project>();
  const [documents, setDocuments] = useState<ProjectDocument[]>([]);
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  const [error, setError] = useState("");
  /** The document whose chunks are shown, if any. */
  const [shown, setShown] = useState<string>();
  const [reviewing, setReviewing] = useState(false);
  /** What the upload in progress is at, if one is. */
  const [uploading, setUploading] = useState<string>();

  const load = useCallback(async () => {
    const [p, docs, sets] = await Promise.all([
      api<Project>("GET", `/api/projects/${id}`),
      api<{ documents: ProjectDocument[] }>("GET", `/api/projects/${id}/documents`),
      api<{ datasets: Dataset[] }>("GET", `/api/projects/${id}/datasets`),
    ]);
    // A refresh sent before a save answers after it: it must not put back the settings the save replaced.
    setProject((shown) => (shown && shown.updatedAt > p.updatedAt ? shown : p));
    setDocuments(docs.documents);
    setDatasets(sets.datasets);
  }, [id]);

  const report = useCallback((caught: unknown) => setError((caught as Error).message), []);

  useEffect(() => {
    load().catch(report);
  }, [load, report]);

  const working = busy(documents, datasets);
  const shownDocument = documents.find((d) => d.id === shown);
  useEffect(() => {
    if (!working) return;
    const timer = setInterval(() => load().catch(report), REFRESH_MS);
    return () => clearInterval(timer);
  }, [working, load, report]);

  /**
   * A request per file, so that a folder of any size goes up (the server takes a few documents' worth per
   * request), each file showing in the table as it arrives. A file the server refuses does not stop the
   * others; the refusals are reported together at the end.
   */
  const uploadEach = async (files: File[]) => {
    const refused: string[] = [];
    for (const [i, file] of files.entries()) {
      setUploading(`Uploading ${i + 1} of ${files.length}: ${file.name}`);
      const form = new FormData();
      form.append("files", file);
      try {
        await upload(`/api/projects/${id}/documents`, form);
      } catch (caught) {
        refused.push(`${file.name}: ${(caught as Error).message}`);
        continue;
      }
      await load().catch(report);
    }
    setUploading(undefined);
    if (refused.length > 0) throw new Error(`Not uploaded — ${refused.join("; ")}`);
  };

  const send = (event: FormEvent<HTMLFormElement>, action: (form: FormData) => Promise<unknown>) =>
    submitForm(
      event,
      action,
      () => {
        setError("");
        return load();
      },
      report,
    );

  if (!project) return <main>{error ? <p role="alert">{error}</p> : <p className="muted">Loading…</p>}</main>;
  return (
    <main>
      <p>
        <a href="#projects">← Projects</a>
      </p>
      <h1>{project.name}</h1>
      {error && <p role="alert">{error}</p>}

      <section aria-label="Documents">
        <h2>Documents</h2>
        {documents.length === 0 ? (
          <p className="muted">No documents yet: upload Markdown, text, HTML, PDF, DOCX or JSON files.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Chunks</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {documents.map((d) => (
                <DocumentRow
                  key={d.id}
                  document={d}
                  chunksShown={shown === d.id}
                  onToggleChunks={() => setShown(shown === d.id ? undefined : d.id)}
                  onDelete={() => api("DELETE", `/api/documents/${d.id}`).then(load).catch(report)}
                />
              ))}
            </tbody>
          </table>
        )}
        {shownDocument && (
          <section aria-label={`Chunks of ${shownDocument.name}`}>
            <h3>Chunks of {shownDocument.name}</h3>
            <ChunksList projectId={id} documentId={shownDocument.id} />
          </section>
        )}
        {documents.some((d) => d.chunkCount > 0) && (
          <p>
            <button type="button" onClick={() => setReviewing(!reviewing)}>
              {reviewing ? "Hide the project's chunks" : "Review all chunks"}
            </button>
          </p>
        )}
        {reviewing && (
          <section aria-label="All chunks">
            <h3>All chunks</h3>
            <ChunksList
              projectId={id}
              documentNames={new Map(documents.map((d) => [d.id, d.name]))}
              chunkTotal={documents.reduce((total, d) => total + d.chunkCount, 0)}
            />
          </section>
        )}
        <h3>Upload</h3>
        <form
          aria-label="Upload documents"
          onSubmit={(event) => send(event, (form) => uploadEach(form.getAll("files") as File[]))}
        >
          <label>
            Files <input name="files" type="file" multiple required accept={DOCUMENT_EXTENSIONS.join(",")} />
          </label>
          <button type="submit" disabled={uploading !== undefined}>
            Upload
          </button>
          {uploading && (
            <p className="muted" role="status" aria-label="Upload progress">
              {uploading}
            </p>
          )}
        </form>
      </section>

      <section aria-label="Datasets">
        <h2>Datasets</h2>
        {datasets.length === 0 ? (
          <p className="muted">No datasets yet.</p>
        ) : (
          <ul className="projects">
            {datasets.map((d) => (
              <DatasetItem key={d.id} dataset={d} />
            ))}
          </ul>
        )}
        <h3>New dataset</h3>
        <form
          aria-label="New dataset"
          onSubmit={(event) =>
            send(event, (form) =>
              api("POST", `/api/projects/${id}/datasets`, {
                datasetName: form.get("name"),
                mode: form.get("mode"),
                format: form.get("format"),
                ...(form.get("generator") ? { generator: form.get("generator") } : {}),
              }),
            )
          }
        >
          <label>
            Name <input name="name" required maxLength={100} />
          </label>
          <label>
            Mode
            <select name="mode" defaultValue="auto">
              {MODES.map((mode) => (
                <option key={mode}>{mode}</option>
              ))}
            </select>
          </label>
          <label>
            Format
            <select name="format" defaultValue="openai">
              {EXPORT_FORMATS.map((format) => (
                <option key={format}>{format}</option>
              ))}
            </select>
          </label>
          <label>
            Generator
            <select name="generator" defaultValue="">
              <option value="">as configured (the LLM when one is set, else extractive)</option>
              <option value="extractive">extractive (offline, from the text itself)</option>
              <option value="llm">llm</option>
            </select>
          </label>
          <button type="submit">Generate dataset</button>
        </form>
      </section>

      <ProjectSettings project={project} onSaved={setProject} />
    </main>
  );
}
