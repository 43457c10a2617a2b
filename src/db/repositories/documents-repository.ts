import { and, asc, eq, inArray } from "drizzle-orm";
import type { Actor } from "../../core/actor.js";
import { isUuid } from "../../core/ids.js";
import type { Db } from "../client.js";
import { documentFiles, documents } from "../schema.js";

export type DocumentRow = typeof documents.$inferSelect;

export interface NewDocument {
  projectId: string;
  name: string;
  type: string;
  sizeBytes: number;
  contentHash: string;
  /** Set when the document is refused before processing (unsupported type, too large). */
  error?: string;
}

export class DocumentsRepository {
  constructor(private readonly db: Db) {}

  private owned(actor: Actor, id: string) {
    return and(eq(documents.id, id), eq(documents.userId, actor.userId));
  }

  /**
   * Stores a document and its bytes in one transaction, unless the project already holds the same content:
   * then it returns that one (`created: false`), and a failed one goes back to `pending` to be tried again.
   */
  async insertIfNew(
    actor: Actor,
    values: NewDocument,
    bytes: Uint8Array | undefined,
  ): Promise<{ document: DocumentRow; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(documents)
        .values({ ...values, userId: actor.userId, status: values.error ? "failed" : "pending" })
        .onConflictDoNothing({ target: [documents.projectId, documents.contentHash] })
        .returning();
      if (inserted) {
        if (bytes) await tx.insert(documentFiles).values({ documentId: inserted.id, bytes });
        return { document: inserted, created: true };
      }
      const [existing] = await tx
        .select()
        .from(documents)
        .where(and(eq(documents.projectId, values.projectId), eq(documents.contentHash, values.contentHash)));
      if (!existing) throw new Error("conflicting document vanished");
      if (existing.status !== "failed" || values.error || !bytes)
        return { document: existing, created: false };
      await tx.insert(documentFiles).values({ documentId: existing.id, bytes }).onConflictDoNothing();
      const [retried] = await tx
        .update(documents)
        .set({ status: "pending", error: null, name: values.name, updatedAt: new Date() })
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

  /** Moves a pending (or interrupted) document to `processing` and returns it with its bytes. */
  async claim(actor: Actor, id: string): Promise<{ document: DocumentRow; bytes: Uint8Array } | undefined> {
    const [row] = await this.db
      .update(documents)
      .set({ status: "processing", updatedAt: new Date() })
      .where(and(this.owned(actor, id), inArray(documents.status, ["pending", "processing"])))
      .returning();
    if (!row) return undefined;
    const [file] = await this.db.select().from(documentFiles).where(eq(documentFiles.documentId, id));
    return file ? { document: row, bytes: file.bytes } : undefined;
  }

  async markFailed(actor: Actor, id: string, reason: string): Promise<void> {
    await this.db
      .update(documents)
      .set({ status: "failed", error: reason, updatedAt: new Date() })
      .where(this.owned(actor, id));
  }
}
