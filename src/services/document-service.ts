import { createHash } from "node:crypto";
import type { Actor } from "../core/actor.js";
import { type AnalyzedChunk, markDuplicates, promoteOrphans } from "../core/analyze-chunks.js";
import { type DocumentType, detectDocumentType } from "../core/document-types.js";
import { NotFoundError, ValidationError } from "../core/errors.js";
import { signatureToBytes } from "../core/near-duplicates.js";
import type { ChunkFilter, ChunksRepository, NewChunk } from "../db/repositories/chunks-repository.js";
import type { DocumentRow, DocumentsRepository } from "../db/repositories/documents-repository.js";
import type { Logger } from "../logger.js";
import { DocumentParseError } from "../parsers/parse-document.js";
import type { ChunkingSettings } from "./analyze-document.js";
import type { ProjectService } from "./project-service.js";

export interface UploadedFile {
  name: string;
  bytes: Uint8Array;
}

export interface IngestResult {
  name: string;
  documentId: string;
  /**
   * `queued`: new (or a failed one tried again, or one to chunk anew); `unchanged`: the project already has
   * this file, name and content, chunked as the project chunks now.
   */
  outcome: "queued" | "unchanged" | "failed";
  status: DocumentRow["status"];
  error: string | null;
}

export interface DocumentServiceDeps {
  documents: DocumentsRepository;
  chunks: ChunksRepository;
  projects: ProjectService;
  /** Hands a stored document to a worker. */
  enqueue: (job: { userId: string; documentId: string }) => Promise<void>;
  /** `analyzeDocument`, on a thread of its own (AnalysisThread) or on this one. */
  analyze: (type: DocumentType, bytes: Uint8Array, chunking: ChunkingSettings) => Promise<AnalyzedChunk[]>;
  maxDocumentBytes: number;
  logger: Logger;
}

/**
 * Processing that started this many times and never finished is not started again: what stopped the
 * process (most often memory, on a very large document) would stop it again. The queue delivers a job
 * three times at most (pg-boss's two retries), after which the document would stay "processing" for good;
 * the third delivery fails it with the reason instead.
 */
const MAX_PROCESSING_ATTEMPTS = 2;
const STOPPED_PROCESSING =
  "Processing this document stopped twice without finishing (FineFlow was stopped, or ran out of memory on it). " +
  "Upload it again to retry, or split it into smaller files.";

/**
 * Characters in a document's name: at most 3 bytes each in UTF-8 (4 for two), so a name stays well inside
 * the ~2.7 KB a row of the unique index on (project, name, content) may take.
 */
export const MAX_NAME_LENGTH = 500;

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Documents → chunks: storing uploads, processing them in the background, and reading the results. */
export class DocumentService {
  constructor(private readonly deps: DocumentServiceDeps) {}

  /**
   * Stores each file as a document and queues it. A file of an unsupported type or over the size limit
   * becomes a failed document with the reason; an unchanged re-upload changes nothing; a changed file of a
   * name already there, or the same file after the project's chunking changed, replaces that earlier version
   * once it is processed (a failed one replaces nothing).
   */
  async ingest(actor: Actor, projectId: string, files: UploadedFile[]): Promise<IngestResult[]> {
    const project = await this.deps.projects.get(actor, projectId);
    const names = uploadNames(files);
    const results: IngestResult[] = [];
    for (const [i, file] of files.entries()) {
      const name = names[i] as string;
      const error = this.refusal(name, file.bytes.byteLength);
      const { document, created } = await this.deps.documents.insertIfNew(
        actor,
        {
          projectId: project.id,
          name,
          type: detectDocumentType(name) ?? "unsupported",
          sizeBytes: file.bytes.byteLength,
          contentHash: createHash("sha256").update(file.bytes).digest("hex"),
          chunkTargetTokens: project.chunkTargetTokens,
          chunkOverlapTokens: project.chunkOverlapTokens,
          duplicateThreshold: project.duplicateThreshold,
          ...(error ? { error } : {}),
        },
        error ? undefined : file.bytes,
      );
      if (created && document.status === "pending")
        await this.deps.enqueue({ userId: actor.userId, documentId: document.id });
      const outcome = document.status === "failed" ? "failed" : created ? "queued" : "unchanged";
      results.push({
        name,
        documentId: document.id,
        outcome,
        status: document.status,
        error: document.error,
      });
    }
    return results;
  }

  private refusal(name: string, size: number): string | undefined {
    if (!detectDocumentType(name)) {
      return "Unsupported file type: FineFlow reads .md, .mdx, .txt, .html, .pdf, .docx, .json and .jsonl files.";
    }
    if (size > this.deps.maxDocumentBytes) {
      return `The file is ${megabytes(size)}, over the ${megabytes(this.deps.maxDocumentBytes)} limit (FINEFLOW_MAX_DOCUMENT_MB).`;
    }
    return undefined;
  }

  /**
   * Parses, chunks, scores and de-duplicates one document, then stores its chunks, marks it ready and
   * deletes the earlier versions of its name, all at once. Run by a worker; running it again for a
   * document that is already done changes nothing.
   */
  async process(actor: Actor, documentId: string): Promise<void> {
    const document = await this.deps.documents.claim(actor, documentId);
    if (!document) return;
    // Before its bytes are read: a document that stopped processing twice is likely a large one.
    if (document.processingAttempts > MAX_PROCESSING_ATTEMPTS) {
      await this.deps.documents.markFailed(actor, documentId, STOPPED_PROCESSING);
      return;
    }
    const bytes = await this.deps.documents.bytesOf(document);
    if (!bytes) return;
    try {
      // As the project's chunking was at the upload: the same file sent again since it changed is chunked anew.
      const { chunkTargetTokens, chunkOverlapTokens } = document;
      const analyzed = await this.deps.analyze(document.type as DocumentType, bytes, {
        chunkTargetTokens,
        chunkOverlapTokens,
      });
      await this.deps.chunks.storeDocumentChunks(
        actor,
        document,
        document.duplicateThreshold,
        analyzed.map((c) => c.fingerprint),
        (earlier) => {
          const marks = markDuplicates(analyzed, earlier, document.duplicateThreshold);
          return analyzed.map((chunk) => toNewChunk(chunk, marks.get(chunk.id)));
        },
        promoteOrphans,
      );
    } catch (error) {
      const reason =
        error instanceof DocumentParseError
          ? error.message
          : "FineFlow could not process this document because of an internal error; it was logged.";
      if (!(error instanceof DocumentParseError)) {
        this.deps.logger.error("document processing failed", { documentId, error: (error as Error).message });
      }
      await this.deps.documents.markFailed(actor, documentId, reason);
    }
  }

  async list(actor: Actor, projectId: string) {
    const project = await this.deps.projects.get(actor, projectId);
    return this.deps.documents.list(actor, project.id);
  }

  async get(actor: Actor, documentId: string): Promise<DocumentRow> {
    const document = await this.deps.documents.findById(actor, documentId);
    if (!document) throw new NotFoundError("Document", documentId);
    return document;
  }

  async delete(actor: Actor, documentId: string): Promise<void> {
    const deleted = await this.deps.chunks.deleteDocument(actor, documentId, promoteOrphans);
    if (!deleted) throw new NotFoundError("Document", documentId);
  }

  async listChunks(actor: Actor, filter: ChunkFilter) {
    const project = await this.deps.projects.get(actor, filter.projectId);
    if (filter.documentId) {
      // A filter that names no document of the user's is the query's fault, as one in another project is.
      const document = await this.deps.documents.findById(actor, filter.documentId);
      if (!document) throw ValidationError.forField("documentId", "names no document of yours");
      if (document.projectId !== project.id) {
        throw ValidationError.forField("documentId", "that document is in another project");
      }
    }
    return this.deps.chunks.list(actor, { ...filter, projectId: project.id });
  }
}

/**
 * The names an upload's files are stored under, checked before any is stored, so that a refused request
 * stores none of its files. Two files of one name in one request would both be queued, then the one
 * processed last would replace the other as its newer version. A name's length is bounded as the
 * database's unique index on names needs it to be (a long name that did not compress failed as an
 * internal error).
 */
function uploadNames(files: UploadedFile[]): string[] {
  if (files.length === 0) throw ValidationError.forField("files", "send at least one file");
  // Composed (NFC), as a name typed or written by most systems is: the same name sent decomposed, as macOS's
  // older file systems store it, is then the same document rather than a second one that looks alike.
  const names = files.map((file) => file.name.trim().normalize("NFC"));
  const seen = new Set<string>();
  for (const name of names) {
    if (!name) throw ValidationError.forField("files", "every file needs a name");
    // The database's text cannot hold it: see `validationHook`.
    if (name.includes("\0"))
      throw ValidationError.forField(
        "files",
        `"${name.replaceAll("\0", "\\0")}": a file name must not contain a NUL character (U+0000)`,
      );
    if (name.length > MAX_NAME_LENGTH) {
      throw ValidationError.forField("files", `a file name may have at most ${MAX_NAME_LENGTH} characters`);
    }
    if (seen.has(name)) {
      throw ValidationError.forField(
        "files",
        `two files are named "${name}": each file of an upload needs a name of its own`,
      );
    }
    seen.add(name);
  }
  return names;
}

function toNewChunk(
  chunk: AnalyzedChunk,
  duplicate: { duplicateOf: string; similarity: number } | undefined,
): NewChunk {
  const { draft, quality, injection, fingerprint } = chunk;
  return {
    id: chunk.id,
    chunkIndex: draft.index,
    text: draft.text,
    headingPath: draft.headingPath,
    tokenCount: draft.tokenCount,
    pageStart: draft.pageStart ?? null,
    pageEnd: draft.pageEnd ?? null,
    qualityScore: quality.score,
    qualityBreakdown: { ...quality.breakdown },
    contentHash: fingerprint.contentHash,
    minhash: signatureToBytes(fingerprint.signature),
    duplicateOf: duplicate?.duplicateOf ?? null,
    duplicateSimilarity: duplicate?.similarity ?? null,
    injectionFlagged: injection.flagged,
    injectionScore: injection.score,
    injectionReasons: injection.reasons,
  };
}
