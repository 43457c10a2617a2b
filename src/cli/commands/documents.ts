import type { Dirent, Stats } from "node:fs";
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import { basename, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { type Command, Option } from "commander";
import { loadConfig } from "../../config.js";
import { chunkedOtherwise, chunkingText, chunkNumber } from "../../core/chunking.js";
import { counted, pageOf } from "../../core/counted.js";
import { detectDocumentType } from "../../core/document-types.js";
import type { toChunkDto } from "../../server/routes/document-routes.js";
import type { IngestResult } from "../../services/document-service.js";
import { type ApiClient, ApiError } from "../api-client.js";
import { CliError, withClient } from "../connect.js";
import { parseFraction, parsePageSize, parseWholeNumber } from "../flags.js";
import { excerpt, printable, printJson, printTable } from "../output.js";
import { createProgress, type Progress } from "../progress.js";
import { type DocumentDto, findDocument, projectDocuments } from "../resolve-document.js";
import { resolveOrCreateProject, resolveProject } from "../resolve-project.js";

type ChunkDto = ReturnType<typeof toChunkDto>;

const pageRange = ({ pageStart, pageEnd }: ChunkDto) =>
  pageStart === null
    ? ""
    : pageStart === pageEnd || pageEnd === null
      ? `${pageStart}`
      : `${pageStart}-${pageEnd}`;

interface Skipped {
  path: string;
  reason: string;
}

const POLL_MS = 500;
const NOT_FOUND = "not found";
const BROKEN_LINK = "broken link";
/** A document of this run that is no more when it ends: deleted meanwhile, or replaced by a later upload of its name. */
const GONE = "gone" as const;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

interface FoundFile {
  path: string;
  /** The document's name: its path under the folder given (`api/README.md`), or a file's own name. */
  name: string;
  size: number;
}

/** Why a file or folder could not be read: Node's message without its repeat of the path. */
const unreadable = (error: unknown) => `cannot be read — ${(error as Error).message.split(",")[0]}`;

/**
 * Why `stat` failed. A link to nothing is said to be one: "not found" sent the user looking for a file whose
 * name `ls` shows.
 */
async function whyNotThere(path: string, error: unknown): Promise<string> {
  if ((error as NodeJS.ErrnoException).code !== "ENOENT") return unreadable(error);
  const isLink = await lstat(path).then(
    (info) => info.isSymbolicLink(),
    () => false,
  );
  return isLink ? BROKEN_LINK : NOT_FOUND;
}

/** `path` under `folder` with `/` between its parts, if it is inside it (and not the folder itself). */
function pathUnder(folder: string, path: string): string | undefined {
  const under = relative(folder, path);
  if (under === "" || isAbsolute(under) || under.split(sep)[0] === "..") return undefined;
  return under.split(sep).join("/");
}

/**
 * The paths given, each once (a repeat is no news), with the name each goes by: its path under the
 * outermost folder given that holds it, so that a file or folder given beside that folder is named as the
 * folder's walk names it whatever the order; `""` for the others. Given first and named by its own name, a
 * file that was also in a folder given was taken twice, under two names. Real paths decide what holds what.
 */
async function namedRoots(paths: string[]): Promise<[path: string, name: string][]> {
  const byLocation = new Map<string, string>();
  for (const path of paths) if (!byLocation.has(resolve(path))) byLocation.set(resolve(path), path);
  const roots = await Promise.all(
    [...byLocation.values()].map(async (path) => ({
      path,
      real: await realpath(path).catch(() => undefined),
      isFolder: await stat(path).then(
        (info) => info.isDirectory(),
        () => false,
      ),
    })),
  );
  const folders = roots.flatMap((r) => (r.isFolder && r.real ? [r.real] : []));
  return roots.map(({ path, real }) => {
    const names = real ? folders.map((folder) => pathUnder(folder, real) ?? "") : [];
    // The outermost folder gives the longest name.
    return [path, names.reduce((longest, name) => (name.length > longest.length ? name : longest), "")];
  });
}

/**
 * Files under the given paths, folders walked depth-first; hidden entries are left out. Links are followed,
 * but what one reaches a second time is not taken again: a link back up the tree (`up -> ..`) was followed
 * until the path grew too long, ingesting the folder again at every turn, and a folder linked under a
 * second name came in twice. Links are followed once every real entry under the paths has been walked, so
 * what a link and a real path both reach is named by the real path, wherever in the tree the link is.
 */
async function collectFiles(paths: string[], skipped: Skipped[]): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  /** Each file and folder reached, by identity, with where it was reached: the same place again is no news. */
  const seen = new Map<string, string>();
  /** Links met so far, as path and name; those met while following them join the end. */
  const links: [path: string, name: string][] = [];
  const visit = async (path: string, name: string) => {
    let info: Stats;
    try {
      info = await stat(path);
    } catch (error) {
      return void skipped.push({ path, reason: await whyNotThere(path, error) });
    }
    const identity = `${info.dev}:${info.ino}`;
    const reachedAt = seen.get(identity);
    if (reachedAt === resolve(path)) return;
    if (reachedAt) return void skipped.push({ path, reason: "already taken, by another path" });
    seen.set(identity, resolve(path));
    if (info.isDirectory()) {
      let entries: Dirent[];
      try {
        entries = await readdir(path, { withFileTypes: true });
      } catch (error) {
        return void skipped.push({ path, reason: unreadable(error) });
      }
      const linked = new Set(entries.filter((entry) => entry.isSymbolicLink()).map((entry) => entry.name));
      const names = entries.map((entry) => entry.name).filter((entry) => !entry.startsWith("."));
      for (const entry of names.sort()) {
        const next: [string, string] = [join(path, entry), name ? `${name}/${entry}` : entry];
        if (linked.has(entry)) links.push(next);
        else await visit(...next);
      }
    } else if (!info.isFile()) {
      skipped.push({ path, reason: "not a regular file" });
    } else if (!detectDocumentType(path)) {
      skipped.push({ path, reason: "unsupported file type" });
    } else {
      // Composed, as the server stores names: two ways of writing one name are one name here too.
      found.push({ path, name: (name || basename(path)).normalize("NFC"), size: info.size });
    }
  };
  for (const root of await namedRoots(paths)) await visit(...root);
  // An array's iterator also reaches what is pushed while it runs.
  for (const link of links) await visit(...link);
  return withDistinctNames(found, skipped);
}

/**
 * Files that would take one name (`faq.md` given from two folders, or the same path under two folders
 * given) are named by their paths as given instead. Under one name, the later would have replaced the
 * earlier once processed: one file's content lost, and the run waiting for a document that was gone. Paths
 * that are still one name (`café.md` written composed and decomposed, in one folder) keep the first.
 */
function withDistinctNames(files: FoundFile[], skipped: Skipped[]): FoundFile[] {
  const pathName = (file: FoundFile) => normalize(file.path).split(sep).join("/").normalize("NFC");
  const names = tally(files.map((file) => file.name));
  const pathNames = tally(files.map(pathName));
  const taken = new Map<string, string>();
  return files.flatMap((file) => {
    const asGiven = pathName(file);
    const name = (names.get(file.name) as number) > 1 && pathNames.get(asGiven) === 1 ? asGiven : file.name;
    const first = taken.get(name);
    if (first) {
      skipped.push({ path: file.path, reason: `the same name as ${first} in Unicode's composed form (NFC)` });
      return [];
    }
    taken.set(name, file.path);
    return [{ ...file, name }];
  });
}

/** How many times each value occurs. */
function tally(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

async function upload(
  client: ApiClient,
  projectId: string,
  name: string,
  content: Blob,
): Promise<IngestResult> {
  const form = new FormData();
  form.append("files", content, name);
  const { documents } = await client.request<{ documents: IngestResult[] }>(
    "POST",
    `/api/projects/${projectId}/documents`,
    form,
  );
  const [result] = documents;
  if (!result) throw new Error("the server answered an upload with no document");
  return result;
}

/**
 * Polls until every given document is ready or failed, or gone (deleted meanwhile, or replaced by a later
 * upload of its name); the worker (server's or in-process) does the work.
 */
async function waitForProcessing(client: ApiClient, projectId: string, ids: Set<string>, progress: Progress) {
  for (;;) {
    const mine = (await projectDocuments(client, projectId)).filter((d) => ids.has(d.id));
    const count = (status: DocumentDto["status"]) => mine.filter((d) => d.status === status).length;
    const [ready, failed] = [count("ready"), count("failed")];
    // Those gone are done too.
    const done = ids.size - mine.length + ready + failed;
    progress.update(
      done,
      ids.size,
      `processed ${done} of ${ids.size} documents (${ready} ready, ${failed} failed)`,
    );
    if (done === ids.size) return mine;
    await new Promise((wake) => setTimeout(wake, POLL_MS));
  }
}

/** A file of the run, as reported: the document's status when the run ended, `gone` if it is no more. */
interface IngestedDocument {
  path: string;
  /** What `documents list` shows and `chunks --document` takes: the path under the folder given. */
  name: string;
  documentId: string;
  outcome: IngestResult["outcome"];
  status: DocumentDto["status"] | typeof GONE;
  chunkCount: number;
  error: string | null;
}

interface IngestOptions {
  project: string;
  json?: boolean;
}

/** What the steps of one run share: what they skip, and the progress they show. */
interface IngestContext {
  skipped: Skipped[];
  progress: Progress;
}

type Uploaded = IngestResult & { path: string };

async function uploadFiles(
  client: ApiClient,
  projectId: string,
  files: FoundFile[],
  { skipped, progress }: IngestContext,
): Promise<Uploaded[]> {
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const uploaded: Uploaded[] = [];
  let sentBytes = 0;
  for (const [i, file] of files.entries()) {
    progress.update(
      sentBytes,
      totalBytes,
      `uploading ${i + 1}/${files.length} files, ${mb(sentBytes)}/${mb(totalBytes)}`,
    );
    sentBytes += file.size;
    const bytes = await readFile(file.path).catch((error: unknown) => {
      skipped.push({ path: file.path, reason: unreadable(error) });
    });
    if (!bytes) continue;
    try {
      const result = await upload(client, projectId, file.name, new Blob([bytes]));
      uploaded.push({ ...result, path: file.path });
      progress.log(`${file.path}: ${result.outcome}${result.error ? ` — ${result.error}` : ""}`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 413) throw error;
      skipped.push({ path: file.path, reason: error.message });
    }
  }
  return uploaded;
}

const asReported = (
  { path, name, documentId, outcome }: Uploaded,
  document: DocumentDto | undefined,
): IngestedDocument => ({
  path,
  name,
  documentId,
  outcome,
  status: document?.status ?? GONE,
  chunkCount: document?.chunkCount ?? 0,
  error: document?.error ?? null,
});

/** Sends the files to the project, created if there is none of that name, and waits for their processing. */
async function send(client: ApiClient, files: FoundFile[], project: string, context: IngestContext) {
  const { project: found, created } = await resolveOrCreateProject(client, project);
  if (created) context.progress.log(`Created project "${found.name}" with the default settings.`);
  const uploaded = await uploadFiles(client, found.id, files, context);
  const ids = new Set(uploaded.map((u) => u.documentId));
  const documents = await waitForProcessing(client, found.id, ids, context.progress);
  const byId = new Map(documents.map((d) => [d.id, d]));
  return { projectCreated: created, documents: uploaded.map((u) => asReported(u, byId.get(u.documentId))) };
}

async function ingest(paths: string[], options: IngestOptions) {
  const config = loadConfig(process.env);
  const context: IngestContext = { skipped: [], progress: createProgress({ json: options.json }) };
  const files = await collectFiles(paths, context.skipped);
  // A project is made only to hold files; with none, a path mistyped is the news, not the project.
  const { projectCreated, documents } =
    files.length > 0
      ? await withClient(config, "ingest", (client) => send(client, files, options.project, context), {
          worker: true,
        })
      : { projectCreated: false, documents: [] };
  context.progress.finish();
  const { skipped } = context;
  if (options.json) printJson({ projectCreated, documents, skipped });
  else printReport(documents, skipped);
  // As `cp` does: once the rest is done and reported, a path given that is not there, or a document that
  // could not be processed, makes the command fail, so that a script does not go on as if all were in. A
  // file found in a folder that FineFlow does not read is skipped, not a failure.
  const missing = skipped
    .filter((s) => (s.reason === NOT_FOUND || s.reason === BROKEN_LINK) && paths.includes(s.path))
    .map((s) => printable(s.path));
  const failed = new Set(documents.filter((d) => d.status === "failed").map((d) => d.documentId)).size;
  const problems = [
    ...(missing.length > 0 ? [`Not found: ${missing.join(", ")}`] : []),
    ...(failed > 0 ? [`${counted(failed, "document")} failed: see the report`] : []),
  ];
  if (problems.length > 0) throw new CliError(problems.join(". "));
}

function printReport(documents: IngestedDocument[], skipped: Skipped[]) {
  printTable(
    documents.map((d) => ({
      // The name other commands take (`chunks --document`), not the path given, which it is under.
      document: d.name,
      status: d.status,
      chunks: String(d.chunkCount),
      // Not "already ingested": the earlier upload may have been cut off, and processed only by this run.
      note:
        d.error ??
        (d.status === GONE
          ? "deleted, or replaced by a later upload of its name"
          : d.outcome === "unchanged"
            ? "unchanged since an earlier upload"
            : ""),
    })),
    "No files to ingest.",
  );
  for (const s of skipped) process.stdout.write(`${printable(`skipped ${s.path}: ${s.reason}`)}\n`);
  // A file given twice (the same name and content) is one document: counted once.
  const distinct = [...new Map(documents.map((d) => [d.documentId, d])).values()];
  const count = (status: string) => distinct.filter((d) => d.status === status).length;
  process.stdout.write(
    `${count("ready")} ready, ${count("failed")} failed, ${skipped.length} skipped; ` +
      `${counted(
        distinct.reduce((n, d) => n + d.chunkCount, 0),
        "chunk",
      )}.\n`,
  );
}

export function registerDocuments(program: Command) {
  program
    .command("ingest <paths...>")
    .description(
      "Add files or folders of documents to a project and chunk them (unsupported files are skipped)",
    )
    .requiredOption("--project <name>", "the project to add them to; created if there is none of that name")
    .option("--json", "print the outcome as JSON (progress goes to stderr)")
    .action(ingest);

  const documents = program.command("documents").description("List and delete a project's documents");
  documents
    .command("list")
    .description("A project's documents with their status and chunk counts")
    .requiredOption("--project <name>", "the project")
    .option("--json", "print the documents as JSON")
    .action(async (options: { project: string; json?: boolean }) => {
      const { project, rows } = await withClient(
        loadConfig(process.env),
        "documents list",
        async (client) => {
          const project = await resolveProject(client, options.project);
          return { project, rows: await projectDocuments(client, project.id) };
        },
      );
      if (options.json) return printJson(rows);
      // A failed document has no chunks to be older.
      const older = rows.filter((d) => d.status !== "failed" && chunkedOtherwise(d, project));
      printTable(
        rows.map((d) => ({
          name: d.name,
          id: d.id,
          status: d.status,
          chunks: String(d.chunkCount),
          duplicates: String(d.duplicateChunks),
          flagged: String(d.flaggedChunks),
          // Target, overlap and threshold, in full below the table.
          ...(older.length > 0
            ? {
                chunking: older.includes(d)
                  ? `older: ${d.chunkTargetTokens}/${d.chunkOverlapTokens}/${d.duplicateThreshold}`
                  : "",
              }
            : {}),
          error: d.error ?? "",
        })),
        "No documents yet: add some with `fineflow ingest <files…> --project <name>`.",
      );
      if (older.length > 0) {
        process.stdout.write(
          `${counted(older.length, "document")} ${older.length === 1 ? "is" : "are"} chunked as the project was when ` +
            `sent; it now makes ${chunkingText(project)}. Ingest them again to chunk them anew.\n`,
        );
      }
    });
  documents
    .command("delete <document>")
    .description("Delete a document and its chunks")
    .option("--project <name>", "the project, to name the document by its name rather than its id")
    .action(async (nameOrId: string, options: { project?: string }) => {
      const id = await withClient(loadConfig(process.env), "documents delete", async (client) => {
        let id = nameOrId;
        if (options.project) {
          const project = await resolveProject(client, options.project);
          id = findDocument(project, await projectDocuments(client, project.id), nameOrId).id;
        }
        await client.request("DELETE", `/api/documents/${encodeURIComponent(id)}`);
        return id;
      });
      process.stdout.write(`Deleted document ${nameOrId === id ? id : `${nameOrId} (${id})`}.\n`);
    });

  program
    .command("chunks")
    .description("List a project's chunks with their tokens, quality, duplicate and injection flags")
    .requiredOption("--project <name>", "the project")
    .option("--document <name>", "only this document's chunks (its name, as `documents list` shows, or id)")
    .option("--min-quality <score>", "only chunks scoring at least this (0–1)", parseFraction)
    .addOption(
      new Option("--duplicates <which>", "only duplicates, or exclude them").choices(["only", "exclude"]),
    )
    .addOption(
      new Option("--flagged <which>", "only chunks flagged for injection, or exclude them").choices([
        "only",
        "exclude",
      ]),
    )
    .option("--limit <n>", "how many (1–500)", parsePageSize, 50)
    .option("--offset <n>", "how many to skip", parseWholeNumber, 0)
    .option("--json", "print the page as JSON")
    .action(async (options: Record<string, string | number | boolean | undefined> & { project: string }) => {
      const { page, names } = await withClient(loadConfig(process.env), "chunks", async (client) => {
        const project = await resolveProject(client, options.project);
        const documents = await projectDocuments(client, project.id);
        const query = new URLSearchParams();
        if (options.document !== undefined) {
          query.set("documentId", findDocument(project, documents, String(options.document)).id);
        }
        for (const [flag, key] of [
          ["minQuality", "minQuality"],
          ["duplicates", "duplicates"],
          ["flagged", "flagged"],
          ["limit", "limit"],
          ["offset", "offset"],
        ] as const) {
          if (options[flag] !== undefined) query.set(key, String(options[flag]));
        }
        const page = await client.request<{ total: number; chunks: ChunkDto[] }>(
          "GET",
          `/api/projects/${project.id}/chunks?${query}`,
        );
        return { page, names: new Map(documents.map((d) => [d.id, d.name])) };
      });
      if (options.json) return printJson(page);
      const offset = Number(options.offset);
      /** A chunk as the table names it: its document's name (or id, if gone) and its number in it. */
      const chunkName = (c: { documentId: string; chunkIndex: number }) =>
        `${names.get(c.documentId) ?? c.documentId} ${chunkNumber(c.chunkIndex)}`;
      // A PDF's chunks say where they are; other documents have no pages.
      const paged = page.chunks.some((c) => c.pageStart !== null);
      printTable(
        page.chunks.map((c) => ({
          chunk: chunkName(c),
          ...(paged ? { pages: pageRange(c) } : {}),
          tokens: String(c.tokenCount),
          quality: c.qualityScore.toFixed(2),
          // Of which chunk, named as the CHUNK column names it.
          duplicate: c.duplicateOfChunk ? chunkName(c.duplicateOfChunk) : c.isDuplicate ? "yes" : "",
          injection: c.injection.flagged
            ? [...new Set(c.injection.reasons.map((r) => r.rule))].join(",")
            : "",
          heading: c.headingPath.join(" > "),
          text: excerpt(c.text, 50),
        })),
        page.total > 0
          ? `No chunks from --offset ${offset}: ${counted(page.total, "chunk")} in all.`
          : "No chunks match.",
      );
      if (page.chunks.length > 0) {
        process.stdout.write(`${pageOf(offset, page.chunks.length, page.total, "chunk")}.\n`);
      }
    });
}
