import { and, asc, eq, gte, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Actor } from "../../core/actor.js";
import type { EarlierChunk, OrphanedCopy, Promotion } from "../../core/analyze-chunks.js";
import { isUuid } from "../../core/ids.js";
import type { InjectionFinding } from "../../core/injection-scan.js";
import { KeptChunkIndex } from "../../core/kept-chunk-index.js";
import {
  MINHASH_SCHEME_VERSION,
  minhashSignature,
  signatureFromBytes,
  signatureToBytes,
  type TextFingerprint,
} from "../../core/near-duplicates.js";
import type { Db } from "../client.js";
import { chunks, documents } from "../schema.js";

export type ChunkRow = typeof chunks.$inferSelect;

/** A chunk as listed: with its original's document and place when it is a duplicate. */
export type ListedChunk = ChunkRow & { original: { documentId: string; chunkIndex: number } | null };

/** A chunk ready to store: analysed, fingerprinted, and checked against the project's earlier chunks. */
export interface NewChunk {
  id: string;
  chunkIndex: number;
  text: string;
  headingPath: string[];
  tokenCount: number;
  pageStart: number | null;
  pageEnd: number | null;
  qualityScore: number;
  qualityBreakdown: Record<string, number>;
  contentHash: string;
  minhash: Uint8Array;
  duplicateOf: string | null;
  duplicateSimilarity: number | null;
  injectionFlagged: boolean;
  injectionScore: number;
  injectionReasons: InjectionFinding[];
}

export interface ChunkFilter {
  projectId: string;
  documentId?: string;
  minQuality?: number;
  duplicates?: "only" | "exclude";
  flagged?: "only" | "exclude";
  limit: number;
  offset: number;
}

type Rows<T> = { rows: T[] };
type TextRow = { id: string; text: string };
const param = (value: unknown) => sql.param(value);

/**
 * Many values as one bytea parameter, with where each starts in it (from 1, as `substring` counts) and its
 * length. As a text[] literal, a thousand chunks' texts or hex signatures were escaped and measured
 * character by character in JavaScript by the drivers, then parsed again by the server: on PGlite, a
 * large document's statements held the process's only thread for seconds. Bytes go as they are.
 */
function packed(values: readonly Uint8Array[]): { bytes: Buffer; starts: number[]; lengths: number[] } {
  const starts: number[] = [];
  const lengths: number[] = [];
  let at = 1;
  for (const value of values) {
    starts.push(at);
    lengths.push(value.byteLength);
    at += value.byteLength;
  }
  return { bytes: Buffer.concat(values), starts, lengths };
}

/** Projects whose kept-chunk index a process holds at once; another one's is rebuilt when next needed. */
const INDEXED_PROJECTS = 8;
/** Kept chunks read per query when an index catches up, so a large project's first load stays bounded. */
const CATCH_UP_PAGE = 5000;

interface ProjectIndex {
  index: KeptChunkIndex;
  /** The highest `seq` of the project's kept chunks the index holds: the rest are read past it. */
  seq: number;
}

/** A kept chunk as read back; `stale` when an older MinHash scheme signed it. */
interface SignedRow extends EarlierChunk {
  stale: boolean;
}

/** A kept chunk as the index reads it. */
interface KeptRow extends SignedRow {
  seq: number;
}

export class ChunksRepository {
  /** Per project, most recently used last. */
  private readonly indexes = new Map<string, ProjectIndex>();

  /**
   * `batch`: chunks written per statement, inserted or re-signed (`resign`). A statement's parameters are
   * copied whole into PGlite's memory, which never shrinks: a PDF of 7,000 chunks stored in one statement
   * peaked 60–110 MB higher than in batches of 1,000.
   */
  constructor(
    private readonly db: Db,
    private readonly batch = 1000,
  ) {}

  /**
   * The project's index of kept chunks, brought up to date under the caller's project lock: anything
   * another process (or a promotion) made kept has a higher `seq` than what the index holds. Chunks deleted
   * since stay in it until it is rebuilt; `earlierCandidates` reads only chunks still kept, so they are
   * never matched. A chunk signed by an older MinHash scheme is re-signed as it is read (`resign`), whether
   * an older FineFlow stored it before an upgrade or is still storing them beside this one. The index keeps
   * the new signature even should the transaction roll the database's back: `earlierCandidates` checks
   * again.
   */
  private async caughtUp(db: Db, projectId: string, threshold: number): Promise<ProjectIndex> {
    let entry = this.indexes.get(projectId);
    this.indexes.delete(projectId);
    if (!entry || entry.index.threshold !== threshold)
      entry = { index: new KeptChunkIndex(threshold), seq: 0 };
    this.indexes.set(projectId, entry);
    for (const [stale] of this.indexes) {
      if (this.indexes.size <= INDEXED_PROJECTS) break;
      this.indexes.delete(stale);
    }
    for (;;) {
      const { rows } = (await db.execute(sql`
        SELECT id, content_hash AS "contentHash", minhash, seq::float8 AS seq,
          minhash_scheme <> ${MINHASH_SCHEME_VERSION} AS stale
        FROM chunks
        WHERE project_id = ${projectId} AND NOT is_duplicate AND seq > ${entry.seq}
        ORDER BY seq LIMIT ${CATCH_UP_PAGE}`)) as unknown as Rows<KeptRow>;
      await this.resign(db, rows);
      for (const row of rows) {
        entry.index.add(row.id, { contentHash: row.contentHash, signature: signatureFromBytes(row.minhash) });
        entry.seq = row.seq;
      }
      if (rows.length < CATCH_UP_PAGE) return entry;
    }
  }

  /**
   * Recomputes from their text, in `rows` and in the database, the signatures an older MinHash scheme made
   * (see `MINHASH_SCHEME_VERSION`): compared with the current scheme's, they would match nothing, and every
   * near duplicate of them would go unmarked. Texts are read a batch at a time, as each query's result
   * passes whole through PGlite's memory.
   */
  private async resign(db: Db, rows: SignedRow[]): Promise<void> {
    const stale = rows.filter((row) => row.stale);
    for (let start = 0; start < stale.length; start += this.batch) {
      const batch = stale.slice(start, start + this.batch);
      const ids = batch.map((row) => row.id);
      const texts = (await db.execute(sql`
        SELECT id, text FROM chunks WHERE id = ANY(${param(ids)}::uuid[])`)) as unknown as Rows<TextRow>;
      const textOf = new Map(texts.rows.map((row) => [row.id, row.text]));
      for (const row of batch) row.minhash = signatureToBytes(minhashSignature(textOf.get(row.id) ?? ""));
      const minhashes = packed(batch.map((row) => row.minhash));
      await db.execute(sql`
        UPDATE chunks SET minhash = substring(${param(minhashes.bytes)}::bytea FROM t.start FOR t.length),
          minhash_scheme = ${MINHASH_SCHEME_VERSION}
        FROM unnest(${param(ids)}::uuid[], ${param(minhashes.starts)}::int[],
          ${param(minhashes.lengths)}::int[]) AS t(id, start, length)
        WHERE chunks.id = t.id`);
    }
  }

  /**
   * The project's kept (non-duplicate) chunks that could repeat the new ones — the same content hash or a
   * shared LSH band, found in the in-memory index — read back with their signatures, oldest first.
   */
  private async earlierCandidates(db: Db, projectId: string, ids: string[]): Promise<EarlierChunk[]> {
    if (ids.length === 0) return [];
    const result = (await db.execute(sql`
      SELECT id, content_hash AS "contentHash", minhash, minhash_scheme <> ${MINHASH_SCHEME_VERSION} AS stale
      FROM chunks
      WHERE id = ANY(${param(ids)}::uuid[]) AND project_id = ${projectId} AND NOT is_duplicate
      ORDER BY created_at, document_id, chunk_index`)) as unknown as Rows<SignedRow>;
    // What the index was told may not be what the rows hold: its re-signing rolled back with a failed
    // store, or an older FineFlow's upgrade pass signed them its way again.
    await this.resign(db, result.rows);
    return result.rows;
  }

  /**
   * Stores a document's chunks and marks it ready, in one transaction under a per-project lock, so two
   * documents processed at once still see each other's chunks as earlier copies, and a crash leaves
   * nothing half-written. `decide` receives the earlier candidates of `fingerprints` (at the project's
   * duplicate `threshold`) and returns the chunks to insert. Earlier documents of the same name — the
   * versions a changed file replaces — are deleted in the same transaction, their kept chunks' copies
   * re-pointed by `plan` as `deleteDocument` does: the new version's chunks that repeat the old version's
   * become the kept ones.
   */
  async storeDocumentChunks(
    actor: Actor,
    document: { id: string; projectId: string; name: string },
    threshold: number,
    fingerprints: TextFingerprint[],
    decide: (earlier: EarlierChunk[]) => NewChunk[],
    plan: (orphans: OrphanedCopy[]) => Promotion,
  ): Promise<NewChunk[]> {
    return this.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      await db.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${document.projectId}))`);
      // Deleted (by its owner, or replaced by a newer version) or stored by another delivery of its job
      // while this one was analysing it: nothing to store.
      const current = (await db.execute(sql`
        SELECT status FROM documents WHERE id = ${document.id}`)) as unknown as Rows<{ status: string }>;
      if (current.rows[0]?.status !== "processing") return [];
      const project = await this.caughtUp(db, document.projectId, threshold);
      const ids = project.index.candidates(fingerprints);
      const stored = decide(await this.earlierCandidates(db, document.projectId, ids));
      let lastSeq = 0;
      for (let start = 0; start < stored.length; start += this.batch) {
        const batch = stored.slice(start, start + this.batch);
        lastSeq = Math.max(lastSeq, await this.insertChunks(db, actor, document, batch));
      }
      // Added before the commit, still under the lock: should the commit fail, the index names chunks that
      // do not exist, which `earlierCandidates` never returns.
      for (const chunk of stored) {
        if (chunk.duplicateOf) continue;
        project.index.add(chunk.id, {
          contentHash: chunk.contentHash,
          signature: signatureFromBytes(chunk.minhash),
        });
      }
      project.seq = Math.max(project.seq, lastSeq);
      await db.execute(sql`
        UPDATE documents SET status = 'ready', error = NULL, chunk_count = ${stored.length},
          duplicate_chunks = ${stored.filter((c) => c.duplicateOf).length},
          flagged_chunks = ${stored.filter((c) => c.injectionFlagged).length}, updated_at = now()
        WHERE id = ${document.id} AND user_id = ${actor.userId}`);
      await db.execute(sql`DELETE FROM document_files WHERE document_id = ${document.id}`);
      const earlierVersions = (await db.execute(sql`
        SELECT id FROM documents
        WHERE project_id = ${document.projectId} AND user_id = ${actor.userId} AND name = ${document.name}
          AND created_at < (SELECT created_at FROM documents WHERE id = ${document.id})`)) as unknown as Rows<{
        id: string;
      }>;
      for (const { id } of earlierVersions.rows) await this.removeDocument(db, document.projectId, id, plan);
      return stored;
    });
  }

  /**
   * Deletes a document and its chunks; copies of its kept chunks in other documents are re-pointed by
   * `plan` (see `promoteOrphans`), in the same transaction under the project's lock.
   */
  async deleteDocument(
    actor: Actor,
    documentId: string,
    plan: (orphans: OrphanedCopy[]) => Promotion,
  ): Promise<boolean> {
    if (!isUuid(documentId)) return false;
    return this.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      const [document] = await db
        .select({ projectId: documents.projectId })
        .from(documents)
        .where(and(eq(documents.id, documentId), eq(documents.userId, actor.userId)));
      if (!document) return false;
      await db.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${document.projectId}))`);
      await this.removeDocument(db, document.projectId, documentId, plan);
      return true;
    });
  }

  /** Deletes a document and its chunks, re-pointing their copies by `plan`; the caller holds the lock. */
  private async removeDocument(
    db: Db,
    projectId: string,
    documentId: string,
    plan: (orphans: OrphanedCopy[]) => Promotion,
  ): Promise<void> {
    const orphans = (await db.execute(sql`
      SELECT copy.id, copy.duplicate_of AS "duplicateOf", copy.content_hash AS "contentHash",
        original.content_hash AS "originalHash"
      FROM chunks AS copy JOIN chunks AS original ON original.id = copy.duplicate_of
      WHERE copy.project_id = ${projectId} AND copy.document_id <> ${documentId}
        AND original.document_id = ${documentId}
      ORDER BY copy.created_at, copy.document_id, copy.chunk_index`)) as unknown as Rows<OrphanedCopy>;
    await db.delete(documents).where(eq(documents.id, documentId));
    const { promoted, repointed } = plan(orphans.rows);
    if (promoted.length > 0) {
      // A new `seq`: processes' kept-chunk indexes pick the promoted chunks up as they catch up.
      await db.execute(sql`
        WITH promoted AS (
          UPDATE chunks SET is_duplicate = false, duplicate_of = NULL, duplicate_similarity = NULL,
            seq = nextval(pg_get_serial_sequence('chunks', 'seq'))
          WHERE id = ANY(${param(promoted)}::uuid[])
          RETURNING document_id
        )
        UPDATE documents SET duplicate_chunks = duplicate_chunks - counts.n
        FROM (SELECT document_id, count(*)::int AS n FROM promoted GROUP BY document_id) AS counts
        WHERE documents.id = counts.document_id`);
    }
    if (repointed.length > 0) {
      await db.execute(sql`
        UPDATE chunks SET duplicate_of = t.original,
          duplicate_similarity = coalesce(t.similarity, chunks.duplicate_similarity)
        FROM unnest(${param(repointed.map((r) => r.id))}::uuid[], ${param(repointed.map((r) => r.duplicateOf))}::uuid[],
          ${param(repointed.map((r) => r.similarity ?? null))}::real[])
          AS t(id, original, similarity)
        WHERE chunks.id = t.id`);
    }
  }

  /**
   * Bulk insert through `unnest`: several times faster than a multi-row VALUES on both backends. Returns
   * the highest `seq` given.
   */
  private async insertChunks(
    db: Db,
    actor: Actor,
    document: { id: string; projectId: string },
    rows: NewChunk[],
  ): Promise<number> {
    const column = <T>(pick: (row: NewChunk) => T) => param(rows.map(pick));
    const texts = packed(rows.map((r) => Buffer.from(r.text)));
    const minhashes = packed(rows.map((r) => r.minhash));
    const inserted = await db.execute(sql`
      INSERT INTO chunks (id, user_id, project_id, document_id, chunk_index, text, heading_path, token_count,
        page_start, page_end, quality_score, quality_breakdown, content_hash, minhash, minhash_scheme, is_duplicate,
        duplicate_of, duplicate_similarity, injection_flagged, injection_score, injection_reasons)
      SELECT id, ${actor.userId}, ${document.projectId}, ${document.id}, chunk_index,
        convert_from(substring(${param(texts.bytes)}::bytea FROM text_start FOR text_length), 'UTF8'),
        heading_path::jsonb, token_count, page_start, page_end, quality_score, quality_breakdown::jsonb, content_hash,
        substring(${param(minhashes.bytes)}::bytea FROM minhash_start FOR minhash_length), ${MINHASH_SCHEME_VERSION},
        duplicate_of IS NOT NULL, duplicate_of, duplicate_similarity, injection_flagged, injection_score,
        injection_reasons::jsonb
      FROM unnest(${column((r) => r.id)}::uuid[], ${column((r) => r.chunkIndex)}::int[],
        ${param(texts.starts)}::int[], ${param(texts.lengths)}::int[],
        ${column((r) => JSON.stringify(r.headingPath))}::text[], ${column((r) => r.tokenCount)}::int[],
        ${column((r) => r.pageStart)}::int[], ${column((r) => r.pageEnd)}::int[], ${column((r) => r.qualityScore)}::real[],
        ${column((r) => JSON.stringify(r.qualityBreakdown))}::text[], ${column((r) => r.contentHash)}::text[],
        ${param(minhashes.starts)}::int[], ${param(minhashes.lengths)}::int[], ${column((r) => r.duplicateOf)}::uuid[],
        ${column((r) => r.duplicateSimilarity)}::real[], ${column((r) => r.injectionFlagged)}::bool[],
        ${column((r) => r.injectionScore)}::real[], ${column((r) => JSON.stringify(r.injectionReasons))}::text[])
        AS t(id, chunk_index, text_start, text_length, heading_path, token_count, page_start, page_end, quality_score,
          quality_breakdown, content_hash, minhash_start, minhash_length, duplicate_of, duplicate_similarity,
          injection_flagged, injection_score, injection_reasons)
      RETURNING seq::float8 AS seq`);
    return (inserted as unknown as Rows<{ seq: number }>).rows.reduce((last, r) => Math.max(last, r.seq), 0);
  }

  async list(actor: Actor, filter: ChunkFilter): Promise<{ total: number; chunks: ListedChunk[] }> {
    const conditions: SQL[] = [eq(chunks.userId, actor.userId), eq(chunks.projectId, filter.projectId)];
    if (filter.documentId) conditions.push(eq(chunks.documentId, filter.documentId));
    if (filter.minQuality !== undefined) conditions.push(gte(chunks.qualityScore, filter.minQuality));
    if (filter.duplicates) conditions.push(eq(chunks.isDuplicate, filter.duplicates === "only"));
    if (filter.flagged) conditions.push(eq(chunks.injectionFlagged, filter.flagged === "only"));
    const where = and(...conditions);
    const [count] = await this.db
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(chunks)
      .where(where);
    // A duplicate's original by its document and place, so that it can be named whatever page it is on.
    const original = alias(chunks, "original");
    const rows = await this.db
      .select({ chunk: chunks, originalDocumentId: original.documentId, originalIndex: original.chunkIndex })
      .from(chunks)
      .leftJoin(original, eq(original.id, chunks.duplicateOf))
      .where(where)
      .orderBy(asc(chunks.createdAt), asc(chunks.documentId), asc(chunks.chunkIndex))
      .limit(filter.limit)
      .offset(filter.offset);
    return {
      total: count?.n ?? 0,
      chunks: rows.map(({ chunk, originalDocumentId, originalIndex }) => ({
        ...chunk,
        original:
          originalDocumentId === null || originalIndex === null
            ? null
            : { documentId: originalDocumentId, chunkIndex: originalIndex },
      })),
    };
  }
}
