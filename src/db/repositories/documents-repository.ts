import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Actor } from "../../core/actor.js";
import type { Chunking } from "../../core/chunking.js";
import { isUuid } from "../../core/ids.js";
import type { Db } from "../client.js";
import { documentFiles, documents } from "../schema.js";

export type DocumentRow = typeof documents.$inferSelect;

/** A document to store, with the project's chunking it is to be processed with. */
export interface NewDocument extends Chunking {
  projectId: string;
  name: string;
  type: string;
  sizeBytes: number;
  contentHash: string;
  /** Set when the document is refused before processing (unsupported type, too large). */
  error?: string;
}

/**
 * The size of the parts an upload is stored in (see `documentFiles`). Stored in one piece, a 25 MB upload
 * grew the process by ~190 MB on PGlite; in parts, by ~90 MB, the upload's own copies included.
 */
export const DOCUMENT_FILE_PART_BYTES = 1024 * 1024;

/** What makes two uploads the same file: the documents' unique key (`documents_project_name_hash_chunking_key`). */
const SAME_FILE = [
  "projectId",
  "name",
  "contentHash",
  "chunkTargetTokens",
  "chunkOverlapTokens",
  "duplicateThreshold",
] as const;

export class DocumentsRepository {
  constructor(private readonly db: Db) {}

  private owned(actor: Actor, id: string) {
    return and(eq(documents.id, id), eq(documents.userId, actor.userId));
  }

  /**
   * Stores a document and its bytes in one transaction, unless the project already holds the same file (the
   * same name and content, to be chunked the same way): then it returns that one (`created: false`), and a
   * failed one goes back to `pending` to be tried again. Either way the file sent last is the one kept:
   * versions of its name sent since and not processed yet (or failed) are withdrawn, as one would otherwise
   * replace it once processed.
   */
  async insertIfNew(
    actor: Actor,
    values: NewDocument,
    bytes: Uint8Array | undefined,
  ): Promise<{ document: DocumentRow; created: boolean }> {
    return this.db.transaction(async (tx) => {
      // Under the project's lock, as chunks are stored (`storeDocumentChunks`): a later version of the name is
      // then either still to be processed, and withdrawn here, or stored, and the earlier one gone with it.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${values.projectId}))`);
      const [inserted] = await tx
        .insert(documents)
        .values({ ...values, userId: actor.userId, status: values.error ? "failed" : "pending" })
        .onConflictDoNothing({
          target: SAME_FILE.map((column) => documents[column]),
        })
        .returning();
      if (inserted) {
        if (bytes) await storeFile(tx as unknown as Db, inserted.id, bytes);
        return { document: inserted, created: true };
      }
      const [existing] = await tx
        .select()
        .from(documents)
        .where(and(...SAME_FILE.map((column) => eq(documents[column], values[column]))));
      if (!existing) throw new Error("conflicting document vanished");
      // Compared in the database: a Date read back keeps milliseconds, the column microseconds, and the row
      // itself would count as later than its own time read back.
      await tx.execute(sql`
        DELETE FROM documents
        WHERE project_id = ${existing.projectId} AND name = ${existing.name} AND status <> 'ready'
          AND id <> ${existing.id} AND created_at > (SELECT created_at FROM documents WHERE id = ${existing.id})`);
      if (existing.status !== "failed" || values.error || !bytes)
        return { document: existing, created: false };
      await storeFile(tx as unknown as Db, existing.id, bytes);
      const [retried] = await tx
        .update(documents)
        .set({
          status: "pending",
          error: null,
          processingAttempts: 0,
          updatedAt: new Date(),
        })
        .where(eq(documents.id, existing.id))
        .returning();
      return { document: retried ?? existing, created: true };
    });
  }

  async list(actor: Actor, projectId: string): Promise<DocumentRow[]> {
    return this.db
      .select()
      .from(documents)
      .where(and(eq(documents.projectId, projectId), eq(documents.userId, actor.userId)))
      .orderBy(asc(documents.createdAt), asc(documents.name));
  }

  async findById(actor: Actor, id: string): Promise<DocumentRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(documents).where(this.owned(actor, id));
    return row;
  }

  /** Moves a pending (or interrupted) document to `processing`, counting the attempt, and returns it. */
  async claim(actor: Actor, id: string): Promise<DocumentRow | undefined> {
    const [row] = await this.db
      .update(documents)
      .set({
        status: "processing",
        processingAttempts: sql`${documents.processingAttempts} + 1`,
        updatedAt: new Date(),
      })
      .where(and(this.owned(actor, id), inArray(documents.status, ["pending", "processing"])))
      .returning();
    return row;
  }

  /** A claimed document's bytes; undefined once they are gone (another delivery stored its chunks). */
  async bytesOf(document: DocumentRow): Promise<Uint8Array | undefined> {
    return readFile(this.db, document);
  }

  async markFailed(actor: Actor, id: string, reason: string): Promise<void> {
    await this.db
      .update(documents)
      .set({ status: "failed", error: reason, updatedAt: new Date() })
      .where(this.owned(actor, id));
  }
}

/** Stores an upload's bytes part by part; an empty file is one empty part. Parts already there stay. */
async function storeFile(db: Db, documentId: string, bytes: Uint8Array): Promise<void> {
  const parts = Math.max(1, Math.ceil(bytes.byteLength / DOCUMENT_FILE_PART_BYTES));
  for (let part = 0; part < parts; part++) {
    const start = part * DOCUMENT_FILE_PART_BYTES;
    await db
      .insert(documentFiles)
      .values({ documentId, part, bytes: bytes.subarray(start, start + DOCUMENT_FILE_PART_BYTES) })
      .onConflictDoNothing();
  }
}

/**
 * A document's bytes, read a part per query (a query's whole result passes through PGlite's memory) until
 * its size is read: bytes stored before migration 0010 are one part, whatever their size. Undefined when
 * a part is missing.
 */
async function readFile(db: Db, document: DocumentRow): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = [];
  let read = 0;
  do {
    const [file] = await db
      .select({ bytes: documentFiles.bytes })
      .from(documentFiles)
      .where(and(eq(documentFiles.documentId, document.id), eq(documentFiles.part, parts.length)));
    if (!file) return undefined;
    parts.push(file.bytes);
    read += file.bytes.byteLength;
  } while (read < document.sizeBytes);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
