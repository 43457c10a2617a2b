import { useCallback, useEffect, useRef, useState } from "react";
import { chunkedOtherwise, chunkingText } from "../../src/core/chunking";
import { counted } from "../../src/core/counted";
import { DOCUMENT_EXTENSIONS } from "../../src/core/document-types";
import { RANGES } from "../../src/core/ranges";
import {
  ApiError,
  api,
  type Dataset,
  EXPORT_FORMATS,
  type IngestResult,
  type Project,
  type ProjectDocument,
  upload,
} from "./api";
import { ChunksList } from "./ChunksList";
import { ConfirmDelete } from "./ConfirmDelete";
import { DatasetItem } from "./DatasetItem";
import { inFormTerms, useSubmit } from "./forms";
import { ProjectSettings } from "./ProjectSettings";
import { usePolling } from "./usePolling";

const MODES = ["auto", "qa", "instruction", "conversation"] as const;

/** The New dataset form's labels, in which the API's refusals of its fields are said. */
const DATASET_TERMS = {
  datasetName: "Name",
  mode: "Mode",
  format: "Format",
  generator: "Generator",
  systemPrompt: "System prompt",
  documentIds: "Only these documents",
  minQuality: "Minimum chunk quality",
  pairsPerChunk: "Pairs per chunk",
  includeFlagged: "Include chunks flagged for injection",
};

const IMPORT_TERMS = { datasetName: "Name", format: "Format", file: "File" };

/**
 * The API's advice for a missing LLM endpoint is the CLI's (`fineflow llm set`): the web app has no place to
 * set one, so a web user is told who can.
 */
const NO_LLM_ENDPOINT =
  "Generator: no LLM endpoint is configured, and the web app has no setting for one. The server's operator " +
  "sets it with FINEFLOW_LLM_BASE_URL and FINEFLOW_LLM_MODEL (or set your own on the command line with " +
  "`fineflow llm set`). Meanwhile, the extractive generator works offline.";

function generationError(caught: unknown): string {
  const noEndpoint =
    caught instanceof ApiError &&
    caught.issues.some((issue) => issue.field === "generator" && /no LLM endpoint/i.test(issue.message));
  return noEndpoint ? NO_LLM_ENDPOINT : inFormTerms(caught, DATASET_TERMS);
}

/** The New dataset form's fields as the API takes them; a field left blank is not sent, for the API's default. */
function generationRequest(form: FormData) {
  const text = (name: string) => String(form.get(name) ?? "").trim() || undefined;
  const number = (name: string) => (text(name) === undefined ? undefined : Number(text(name)));
  const documentIds = form.getAll("documentIds");
  return {
    datasetName: form.get("name"),
    mode: form.get("mode"),
    format: form.get("format"),
    generator: text("generator"),
    systemPrompt: text("systemPrompt"),
    documentIds: documentIds.length > 0 ? documentIds : undefined,
    minQuality: number("minQuality"),
    pairsPerChunk: number("pairsPerChunk"),
    includeFlagged: form.has("includeFlagged"),
  };
}

const busy = (documents: ProjectDocument[], datasets: Dataset[]) =>
  documents.some((d) => d.status === "pending" || d.status === "processing") ||
  datasets.some((d) => d.status === "generating");

/** Changes whenever the chunks may have: a document added, processed or deleted, or its counts changed. */
const chunksKey = (documents: ProjectDocument[]) =>
  documents
    .map((d) => [d.id, d.status, d.chunkCount, d.duplicateChunks, d.flaggedChunks].join(":"))
    .join(" ");

/** An uploaded file, and whether it is a new version of a name the table already had. */
interface Uploaded {
  result: IngestResult;
  newVersion: boolean;
}

/**
 * What became of an uploaded file, when it was not simply added: said from the table as it is now, so that
 * a new version's note follows it to ready (it replaced the earlier one) or failed (the earlier one stays).
 */
function uploadNote({ result, newVersion }: Uploaded, documents: ProjectDocument[]): string | undefined {
  const now = documents.find((d) => d.id === result.documentId);
  const what =
    result.outcome === "unchanged"
      ? "unchanged, already in the project"
      : result.outcome === "failed"
        ? `not processed: ${result.error}`
        : !newVersion || !now
          ? undefined
          : now.status === "ready"
            ? "new version processed, in place of the earlier one"
            : now.status === "failed"
              ? `new version not processed, the earlier one stays: ${now.error}`
              : "new version processing, replaces the earlier one when ready";
  return what && `${result.name}: ${what}`;
}

/** What is worth a second look among a document's chunks, as the CLI's DUPLICATES and FLAGGED columns say. */
function ChunkNotes({ document: d, project }: { document: ProjectDocument; project: Project }) {
  const notes = [
    d.duplicateChunks ? counted(d.duplicateChunks, "duplicate") : "",
    d.flaggedChunks ? `${d.flaggedChunks} flagged for injection` : "",
    d.status !== "failed" && chunkedOtherwise(d, project)
      ? `${chunkingText(d)}, as the project was when it was sent: upload it again to chunk it anew`
      : "",
  ].filter(Boolean);
  return notes.length > 0 && <span className="muted"> ({notes.join(", ")})</span>;
}

/** A document's row in the documents table: its status and chunks, and what can be done with it. */
function DocumentRow({
  document: d,
  project,
  newVersion,
  chunksShown,
  onToggleChunks,
  onDelete,
}: {
  document: ProjectDocument;
  project: Project;
  /** Whether an earlier version of its name is still in the table (until this one is processed). */
  newVersion: boolean;
  chunksShown: boolean;
  onToggleChunks: () => void;
  /** Deletes the document and reloads the page's data, reporting a failure itself. */
  onDelete: () => Promise<unknown>;
}) {
  return (
    <tr>
      <td className="name">
        {d.name}
        {newVersion && (
          <span className="muted">
            {" "}
            ({d.status === "failed" ? "new version, not applied" : "new version"})
          </span>
        )}
      </td>
      <td>
        {d.status}
        {d.error && <span className="muted"> — {d.error}</span>}
      </td>
      <td>
        {d.chunkCount}
        <ChunkNotes document={d} project={project} />
      </td>
      <td>
        {/* A box of its own, not the cell's display: a flex cell would leave the table's layout. */}
        <div className="actions">
          <ConfirmDelete
            label={`Delete ${d.name}`}
            question={`Delete ${d.name}${d.chunkCount > 0 ? ` and its ${counted(d.chunkCount, "chunk")}` : ""}?`}
            onDelete={onDelete}
          >
            {d.chunkCount > 0 && (
              <button
                type="button"
                aria-label={`${chunksShown ? "Hide" : "Show"} chunks of ${d.name}`}
                aria-expanded={chunksShown}
                onClick={onToggleChunks}
              >
                {chunksShown ? "Hide chunks" : "Show chunks"}
              </button>
            )}
          </ConfirmDelete>
        </div>
      </td>
    </tr>
  );
}

/** One project: its documents (upload, status, chunks), its datasets (generate, validate, export) and settings. */
export function ProjectPage({ id }: { id: string }) {
  const [project, setProject] = useState<Project>();
  const [documents, setDocuments] = useState<ProjectDocument[]>([]);
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  /**
   * What went wrong last, of what has no form to be said beside: a document's delete refused stays until the
   * next delete, a failed refresh until one succeeds.
   */
  const [failure, setFailure] = useState<{ message: string; refresh: boolean }>();
  /** The document whose chunks are shown, if any. */
  const [shown, setShown] = useState<string>();
  const [reviewing, setReviewing] = useState(false);
  /** What the upload in progress is at, if one is. */
  const [uploading, setUploading] = useState<string>();
  /** The files of the last upload, for what became of those it did not simply add. */
  const [uploaded, setUploaded] = useState<Uploaded[]>([]);
  const documentsHeading = useRef<HTMLHeadingElement>(null);

  const refresh = useCallback(async () => {
    try {
      const [p, docs, sets] = await Promise.all([
        api<Project>("GET", `/api/projects/${id}`),
        api<{ documents: ProjectDocument[] }>("GET", `/api/projects/${id}/documents`),
        api<{ datasets: Dataset[] }>("GET", `/api/projects/${id}/datasets`),
      ]);
      // A refresh sent before a save answers after it: it must not put back the settings the save replaced.
      setProject((shown) => (shown?.id === p.id && shown.updatedAt > p.updatedAt ? shown : p));
      setDocuments(docs.documents);
      setDatasets(sets.datasets);
      setFailure((last) => (last?.refresh ? undefined : last));
    } catch (caught) {
      setFailure({ message: (caught as Error).message, refresh: true });
    }
  }, [id]);

  const report = useCallback(
    (caught: unknown) => setFailure({ message: (caught as Error).message, refresh: false }),
    [],
  );

  useEffect(() => {
    refresh();
  }, [refresh]);

  usePolling(refresh, busy(documents, datasets));
  const shownDocument = documents.find((d) => d.id === shown);
  const documentNames = new Map(documents.map((d) => [d.id, d.name]));
  const reloadKey = chunksKey(documents);
  const readyDocuments = documents.filter((d) => d.status === "ready");

  /**
   * A request per file, so that a folder of any size goes up (the server takes a few documents' worth per
   * request), each file showing in the table as it arrives. A file the server refuses does not stop the
   * others; the refusals are reported together at the end.
   */
  const uploadEach = async (files: File[]) => {
    const before = documents;
    const refused: string[] = [];
    const sent: Uploaded[] = [];
    setUploaded([]);
    for (const [i, file] of files.entries()) {
      setUploading(`Uploading ${i + 1} of ${files.length}: ${file.name}`);
      const form = new FormData();
      form.append("files", file);
      try {
        const answer = await upload<{ documents: IngestResult[] }>(`/api/projects/${id}/documents`, form);
        for (const result of answer.documents) {
          const newVersion = before.some((d) => d.name === result.name && d.id !== result.documentId);
          sent.push({ result, newVersion });
        }
      } catch (caught) {
        refused.push(`${file.name}: ${(caught as Error).message}`);
        continue;
      }
      await refresh();
    }
    setUploading(undefined);
    setUploaded(sent);
    if (refused.length > 0) throw new Error(`Not uploaded — ${refused.join("; ")}`);
  };

  const remove = async (d: ProjectDocument) => {
    try {
      await api("DELETE", `/api/documents/${d.id}`);
    } catch (caught) {
      // Deleted meanwhile (in another tab, say): what was asked for is done, and the reload shows it.
      if (!(caught instanceof ApiError && caught.status === 404)) return report(caught);
    }
    setFailure((last) => (last?.refresh ? last : undefined));
    await refresh();
    // The row and its focused button are gone: the focus goes to the top of the table rather than to nowhere.
    documentsHeading.current?.focus();
  };

  const uploadForm = useSubmit(refresh);
  const datasetForm = useSubmit(refresh, generationError);
  const importForm = useSubmit(refresh, (caught) => inFormTerms(caught, IMPORT_TERMS));

  const alert = failure && <p role="alert">{failure.message}</p>;
  const uploadNotes = uploaded.flatMap((u) => uploadNote(u, documents) ?? []);
  if (!project) return <main>{alert || <p className="muted">Loading…</p>}</main>;
  return (
    <main>
      <p>
        <a href="#projects">← Projects</a>
      </p>
      <h1 className="name">{project.name}</h1>
      {alert}

      <section aria-label="Documents">
        <h2 ref={documentsHeading} tabIndex={-1}>
          Documents
        </h2>
        {documents.length === 0 ? (
          <p className="muted">No documents yet: upload Markdown, text, HTML, PDF, DOCX or JSON files.</p>
        ) : (
          // A box of its own that scrolls sideways: on a narrow screen the table may need more than the width.
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Status</th>
                  <th>Chunks</th>
                  <th>
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {documents.map((d) => (
                  <DocumentRow
                    key={d.id}
                    document={d}
                    project={project}
                    newVersion={documents.some(
                      (other) => other.name === d.name && other.createdAt < d.createdAt,
                    )}
                    chunksShown={shown === d.id}
                    onToggleChunks={() => setShown(shown === d.id ? undefined : d.id)}
                    onDelete={() => remove(d)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {shownDocument && (
          <section aria-label={`Chunks of ${shownDocument.name}`}>
            <h3 className="name">Chunks of {shownDocument.name}</h3>
            {/* Keyed by document: another document's list starts at its first page, with no filters. */}
            <ChunksList
              key={shownDocument.id}
              projectId={id}
              documentId={shownDocument.id}
              documentNames={documentNames}
              reloadKey={reloadKey}
            />
          </section>
        )}
        {documents.some((d) => d.chunkCount > 0) && (
          <p>
            <button type="button" aria-expanded={reviewing} onClick={() => setReviewing(!reviewing)}>
              {reviewing ? "Hide the project's chunks" : "Review all chunks"}
            </button>
          </p>
        )}
        {reviewing && (
          <section aria-label="All chunks">
            <h3>All chunks</h3>
            <ChunksList projectId={id} documentNames={documentNames} reloadKey={reloadKey} />
          </section>
        )}
        <h3>Upload</h3>
        <form
          aria-label="Upload documents"
          onSubmit={(event) => uploadForm.submit(event, (form) => uploadEach(form.getAll("files") as File[]))}
        >
          <label>
            Files <input name="files" type="file" multiple required accept={DOCUMENT_EXTENSIONS.join(",")} />
          </label>
          <button type="submit" disabled={uploading !== undefined}>
            Upload
          </button>
          {uploadForm.error && <p role="alert">{uploadForm.error}</p>}
          {uploading && (
            <p className="muted" role="status" aria-label="Upload progress">
              {uploading}
            </p>
          )}
          {uploadNotes.length > 0 && (
            <div role="status" aria-label="Upload results">
              <ul className="muted name">
                {uploadNotes.map((note) => (
                  <li key={note}>{note}</li>
                ))}
              </ul>
            </div>
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
              <DatasetItem key={d.id} dataset={d} onChanged={refresh} />
            ))}
          </ul>
        )}
        <h3>New dataset</h3>
        <form
          aria-label="New dataset"
          onSubmit={(event) =>
            datasetForm.submit(event, (form) =>
              api("POST", `/api/projects/${id}/datasets`, generationRequest(form)),
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
          <label>
            System prompt, for each pair generated (optional)
            <textarea name="systemPrompt" rows={2} maxLength={10_000} />
          </label>
          {readyDocuments.length > 0 && (
            <fieldset>
              <legend>Only these documents (none ticked: every ready document)</legend>
              {readyDocuments.map((d) => (
                <label key={d.id} className="name">
                  <input type="checkbox" name="documentIds" value={d.id} /> {d.name}
                </label>
              ))}
            </fieldset>
          )}
          <label>
            Minimum chunk quality (0 to 1), empty for any
            <input name="minQuality" type="number" min="0" max="1" step="any" />
          </label>
          <label>
            Pairs per chunk ({RANGES.pairsPerChunk.min} to {RANGES.pairsPerChunk.max}), empty for the default
            <input
              name="pairsPerChunk"
              type="number"
              min={RANGES.pairsPerChunk.min}
              max={RANGES.pairsPerChunk.max}
              step="1"
            />
          </label>
          <label>
            <input name="includeFlagged" type="checkbox" /> Include chunks flagged for injection
          </label>
          <button type="submit">Generate dataset</button>
          {datasetForm.error && <p role="alert">{datasetForm.error}</p>}
        </form>

        <h3>Import a dataset</h3>
        <form
          aria-label="Import dataset"
          onSubmit={(event) =>
            // The form's fields are named as the API takes them: file, datasetName, format.
            importForm.submit(event, (form) => upload(`/api/projects/${id}/datasets/import`, form))
          }
        >
          <p className="muted">
            A JSONL file in any of the export formats; one bad line and nothing is imported.
          </p>
          <label>
            File <input name="file" type="file" required />
          </label>
          <label>
            Name <input name="datasetName" required maxLength={100} />
          </label>
          <label>
            Format
            <select name="format" defaultValue="auto">
              <option value="auto">auto (detected)</option>
              {EXPORT_FORMATS.map((format) => (
                <option key={format}>{format}</option>
              ))}
            </select>
          </label>
          <button type="submit">Import dataset</button>
          {importForm.error && <p role="alert">{importForm.error}</p>}
        </form>
      </section>

      <ProjectSettings project={project} onSaved={setProject} />
    </main>
  );
}
