import { and, asc, between, count, desc, eq, gt, gte, inArray, lte, or, sql } from "drizzle-orm";
import type { Actor } from "../../core/actor.js";
import type { PairMessage, PairMode, TokenUsage } from "../../core/generation/types.js";
import { idRange, isUuid } from "../../core/ids.js";
import type { GenerateDatasetInput } from "../../core/inputs.js";
import type { PairStatus } from "../../core/statuses.js";
import type { Db } from "../client.js";
import { chunks, generationTasks, spendLedger, trainingDatasets, trainingPairs } from "../schema.js";

export type DatasetRow = typeof trainingDatasets.$inferSelect;
export type PairRow = typeof trainingPairs.$inferSelect;

/** What the run has done so far, from its tasks and pairs. */
export interface GenerationProgress {
  totalChunks: number;
  pending: number;
  done: number;
  failed: number;
  skipped: number;
  pairs: number;
  rejectedPairs: number;
  promptTokens: number;
  completionTokens: number;
}

/** A chunk's unit of work with what generating it needs. */
export interface GenerationTask {
  status: string;
  datasetStatus: string;
  projectId: string;
  mode: DatasetRow["mode"];
  systemPrompt: string | null;
  generator: "llm" | "extractive";
  pairsPerChunk: number;
  chunkText: string;
  headingPath: string[];
  documentId: string;
  /** The chunk before in the document, if the dataset is made from it too. */
  previousText: string | null;
  previousHeadingPath: string[] | null;
}

export interface NewPair {
  messages: PairMessage[];
  mode: PairMode;
  status: PairStatus;
  rejectionReason: string | null;
  qualityScore: number;
  qualityBreakdown: Record<string, number>;
  tokenCount: number;
}

export interface TaskOutcome {
  generator: string;
  model: string;
  promptVersion: string;
  pairs: NewPair[];
  promptTokens: number;
  completionTokens: number;
  /** Undefined when the model's price is unknown: then nothing is written to the ledger. */
  costUsd: number | undefined;
}

type Rows<T> = { rows: T[] };

export interface PairFilter {
  status?: PairStatus;
  valid?: boolean;
  minQuality?: number;
  maxQuality?: number;
  /** Text anywhere in the pair's messages, case-insensitive. */
  search?: string;
  sort?: "created" | "quality" | "tokens";
  order?: "asc" | "desc";
  limit: number;
  offset: number;
}

/** What an edit or a hand-written pair sets: the messages and what is computed from them. */
export interface EditedPair {
  messages: PairMessage[];
  mode: PairMode;
  tokenCount: number;
  qualityScore: number;
  qualityBreakdown: Record<string, number>;
}

/** `%` and `_` typed by the user are searched for, not used as wildcards. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Pairs whose messages' text holds `text` — their text, not their JSON, where "role" or a comma would match
 * every pair and a quote is escaped — or whose id it is, as validation shows it shortened.
 */
function searchedPairs(text: string) {
  const ids = idRange(text);
  const inText = sql`EXISTS (SELECT 1 FROM jsonb_array_elements(${trainingPairs.messages}) AS m
    WHERE m->>'content' ILIKE ${`%${escapeLike(text)}%`})`;
  return ids ? or(inText, between(trainingPairs.id, ids.low, ids.high)) : inText;
}

/** A dataset's pending tasks, or one chunk's task while it is still pending: no task is done twice. */
const pendingTask = (datasetId: string, chunkId?: string) =>
  and(
    eq(generationTasks.datasetId, datasetId),
    chunkId ? eq(generationTasks.chunkId, chunkId) : undefined,
    eq(generationTasks.status, "pending"),
  );

export class DatasetsRepository {
  constructor(private readonly db: Db) {}

  private owned(actor: Actor, id: string) {
    return and(eq(trainingDatasets.id, id), eq(trainingDatasets.userId, actor.userId));
  }

  async findById(actor: Actor, id: string): Promise<DatasetRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(trainingDatasets).where(this.owned(actor, id));
    return row;
  }

  async findByName(actor: Actor, projectId: string, name: string): Promise<DatasetRow | undefined> {
    const [row] = await this.db
      .select()
      .from(trainingDatasets)
      .where(
        and(
          eq(trainingDatasets.projectId, projectId),
          eq(trainingDatasets.name, name),
          eq(trainingDatasets.userId, actor.userId),
        ),
      );
    return row;
  }

  /** The user's datasets, of one project or all, optionally only those of one name. */
  list(actor: Actor, filter: { projectId?: string; name?: string }): Promise<DatasetRow[]> {
    return this.db
      .select()
      .from(trainingDatasets)
      .where(
        and(
          eq(trainingDatasets.userId, actor.userId),
          filter.projectId ? eq(trainingDatasets.projectId, filter.projectId) : undefined,
          filter.name ? eq(trainingDatasets.name, filter.name) : undefined,
        ),
      )
      .orderBy(desc(trainingDatasets.createdAt));
  }

  /**
   * Creates the dataset and one task per selected chunk, in one transaction: chunks of ready documents
   * (or the chosen ones), not duplicates, at or above the quality floor. Flagged chunks get a `skipped`
   * task with the reason unless the user opted in. Returns undefined, storing nothing, when no chunk
   * qualifies.
   */
  async createWithTasks(
    actor: Actor,
    projectId: string,
    input: GenerateDatasetInput & { generator: "llm" | "extractive" },
  ): Promise<DatasetRow | undefined> {
    return this.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      const [dataset] = await db
        .insert(trainingDatasets)
        .values({
          userId: actor.userId,
          projectId,
          name: input.datasetName,
          format: input.format,
          mode: input.mode,
          systemPrompt: input.systemPrompt ?? null,
          generationOptions: {
            generator: input.generator,
            pairsPerChunk: input.pairsPerChunk,
            minQuality: input.minQuality ?? null,
            documentIds: input.documentIds ?? null,
            includeFlagged: input.includeFlagged,
          },
        })
        .returning();
      if (!dataset) throw new Error("insert returned no row");
      const documentFilter = input.documentIds
        ? sql`AND c.document_id = ANY(${sql.param(input.documentIds)}::uuid[])`
        : sql``;
      const inserted = (await db.execute(sql`
        INSERT INTO generation_tasks (dataset_id, chunk_id, status, reason)
        SELECT ${dataset.id}, c.id,
          CASE WHEN c.injection_flagged AND NOT ${input.includeFlagged} THEN 'skipped' ELSE 'pending' END,
          CASE WHEN c.injection_flagged AND NOT ${input.includeFlagged}
            THEN 'flagged for prompt injection: ' || (SELECT string_agg(DISTINCT r->>'rule', ', ') FROM jsonb_array_elements(c.injection_reasons) r)
          END
        FROM chunks c JOIN documents d ON d.id = c.document_id
        WHERE c.project_id = ${projectId} AND c.user_id = ${actor.userId} AND d.status = 'ready'
          AND NOT c.is_duplicate AND c.quality_score >= ${input.minQuality ?? 0} ${documentFilter}
        RETURNING status`)) as unknown as Rows<{ status: string }>;
      if (inserted.rows.some((r) => r.status === "pending")) return dataset;
      await db.delete(trainingDatasets).where(eq(trainingDatasets.id, dataset.id));
      return undefined;
    });
  }

  async progress(datasetId: string): Promise<GenerationProgress> {
    const tasks = (await this.db.execute(sql`
      SELECT count(*)::int AS "totalChunks",
        count(*) FILTER (WHERE status = 'pending')::int AS pending,
        count(*) FILTER (WHERE status = 'done')::int AS done,
        count(*) FILTER (WHERE status = 'failed')::int AS failed,
        count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
        coalesce(sum(prompt_tokens), 0)::int AS "promptTokens",
        coalesce(sum(completion_tokens), 0)::int AS "completionTokens"
      FROM generation_tasks WHERE dataset_id = ${datasetId}`)) as unknown as Rows<
      Omit<GenerationProgress, "pairs" | "rejectedPairs">
    >;
    const pairs = (await this.db.execute(sql`
      SELECT count(*) FILTER (WHERE status = 'accepted')::int AS pairs,
        count(*) FILTER (WHERE status = 'rejected')::int AS "rejectedPairs"
      FROM training_pairs WHERE dataset_id = ${datasetId}`)) as unknown as Rows<{
      pairs: number;
      rejectedPairs: number;
    }>;
    const [t] = tasks.rows;
    const [p] = pairs.rows;
    if (!t || !p) throw new Error("aggregate returned no row");
    return { ...t, ...p };
  }

  /** Tasks still to do, for (re-)queueing; a resumed run also retries the chunks that failed. */
  async reopenTasks(datasetId: string): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      await tx
        .update(generationTasks)
        .set({ status: "pending", reason: null, updatedAt: new Date() })
        .where(
          and(
            eq(generationTasks.datasetId, datasetId),
            sql`(${generationTasks.status} = 'failed' OR ${generationTasks.reason} = 'cancelled')`,
          ),
        );
      await tx
        .update(trainingDatasets)
        .set({ status: "generating", error: null, updatedAt: new Date() })
        .where(eq(trainingDatasets.id, datasetId));
      const rows = await tx
        .select({ chunkId: generationTasks.chunkId })
        .from(generationTasks)
        .where(pendingTask(datasetId));
      return rows.map((r) => r.chunkId);
    });
  }

  async loadTask(actor: Actor, datasetId: string, chunkId: string): Promise<GenerationTask | undefined> {
    const result = (await this.db.execute(sql`
      SELECT t.status, d.status AS "datasetStatus", d.project_id AS "projectId", d.mode,
        d.system_prompt AS "systemPrompt", d.generation_options->>'generator' AS generator,
        (d.generation_options->>'pairsPerChunk')::int AS "pairsPerChunk",
        c.text AS "chunkText", c.heading_path AS "headingPath", c.document_id AS "documentId",
        p.text AS "previousText", p.heading_path AS "previousHeadingPath"
      FROM generation_tasks t
      JOIN training_datasets d ON d.id = t.dataset_id
      JOIN chunks c ON c.id = t.chunk_id
      LEFT JOIN chunks p ON p.document_id = c.document_id AND p.chunk_index = c.chunk_index - 1
        -- Only a chunk the dataset is made from: one it leaves out (flagged, under the quality floor, a
        -- duplicate) asked nothing that this chunk's pairs could repeat.
        AND EXISTS (SELECT 1 FROM generation_tasks pt
          WHERE pt.dataset_id = t.dataset_id AND pt.chunk_id = p.id AND pt.status <> 'skipped')
      WHERE t.dataset_id = ${datasetId} AND t.chunk_id = ${chunkId} AND d.user_id = ${actor.userId}`)) as unknown as Rows<GenerationTask>;
    return result.rows[0];
  }

  /**
   * Stores a chunk's pairs, its token use and its cost, and marks its task done — all or nothing, and
   * only if the task is still pending, so a repeated job never duplicates pairs.
   */
  async completeTask(
    actor: Actor,
    task: GenerationTask,
    datasetId: string,
    chunkId: string,
    outcome: TaskOutcome,
  ) {
    await this.db.transaction(async (tx) => {
      const claimed = await tx
        .update(generationTasks)
        .set({
          status: "done",
          attempts: sql`${generationTasks.attempts} + 1`,
          promptTokens: outcome.promptTokens,
          completionTokens: outcome.completionTokens,
          updatedAt: new Date(),
        })
        .where(pendingTask(datasetId, chunkId))
        .returning({ chunkId: generationTasks.chunkId });
      if (claimed.length === 0) return;
      if (outcome.pairs.length > 0) {
        await tx.insert(trainingPairs).values(
          outcome.pairs.map((pair) => ({
            userId: actor.userId,
            datasetId,
            messages: pair.messages,
            mode: pair.mode,
            status: pair.status,
            rejectionReason: pair.rejectionReason,
            qualityScore: pair.qualityScore,
            qualityBreakdown: pair.qualityBreakdown,
            tokenCount: pair.tokenCount,
            sourceChunkId: chunkId,
            sourceDocumentId: task.documentId,
            generator: outcome.generator,
            model: outcome.model,
            promptVersion: outcome.promptVersion,
          })),
        );
      }
      if (outcome.costUsd !== undefined && outcome.costUsd > 0) {
        await tx.insert(spendLedger).values({
          userId: actor.userId,
          projectId: task.projectId,
          kind: "generation",
          amountUsd: outcome.costUsd,
          datasetId,
          description: `${outcome.model}: ${outcome.promptTokens} prompt + ${outcome.completionTokens} completion tokens`,
        });
      }
    });
  }

  /**
   * Claims a pending chunk for `leaseSeconds`. `claimed: false` with the seconds left when another worker
   * holds it; with nothing left to wait for when the chunk is no longer pending.
   */
  async claimTask(
    datasetId: string,
    chunkId: string,
    leaseSeconds: number,
  ): Promise<{ claimed: true } | { claimed: false; retryInSeconds?: number }> {
    const claimed = await this.db
      .update(generationTasks)
      .set({ claimedUntil: sql`now() + make_interval(secs => ${leaseSeconds})` })
      .where(
        and(
          pendingTask(datasetId, chunkId),
          sql`(${generationTasks.claimedUntil} IS NULL OR ${generationTasks.claimedUntil} <= now())`,
        ),
      )
      .returning({ chunkId: generationTasks.chunkId });
    if (claimed.length > 0) return { claimed: true };
    const [held] = await this.db
      .select({
        seconds: sql<number>`ceil(extract(epoch from ${generationTasks.claimedUntil} - now()))::int`,
      })
      .from(generationTasks)
      .where(pendingTask(datasetId, chunkId));
    return { claimed: false, retryInSeconds: held ? Math.max(1, held.seconds) : undefined };
  }

  async releaseClaim(datasetId: string, chunkId: string): Promise<void> {
    await this.db
      .update(generationTasks)
      .set({ claimedUntil: null })
      .where(and(eq(generationTasks.datasetId, datasetId), eq(generationTasks.chunkId, chunkId)));
  }

  /** Drops every claim: on the embedded database, whoever held them is a process that has ended. */
  async releaseClaims(): Promise<void> {
    await this.db
      .update(generationTasks)
      .set({ claimedUntil: null })
      .where(sql`${generationTasks.claimedUntil} IS NOT NULL`);
  }

  /** Marks the chunk failed; the tokens its failed attempts used are billed to the ledger all the same. */
  async failTask(
    actor: Actor,
    datasetId: string,
    chunkId: string,
    reason: string,
    spent: { usage?: TokenUsage; model?: string; costUsd?: number } = {},
  ) {
    await this.db.transaction(async (tx) => {
      const [task] = await tx
        .update(generationTasks)
        .set({
          status: "failed",
          reason,
          attempts: sql`${generationTasks.attempts} + 1`,
          promptTokens: spent.usage?.promptTokens ?? 0,
          completionTokens: spent.usage?.completionTokens ?? 0,
          updatedAt: new Date(),
        })
        .where(pendingTask(datasetId, chunkId))
        .returning({
          projectId: sql<string>`(SELECT project_id FROM training_datasets WHERE id = ${datasetId})`,
        });
      if (!task || !spent.costUsd || !spent.usage) return;
      await tx.insert(spendLedger).values({
        userId: actor.userId,
        projectId: task.projectId,
        kind: "generation",
        amountUsd: spent.costUsd,
        datasetId,
        description: `${spent.model}: ${spent.usage.promptTokens} prompt + ${spent.usage.completionTokens} completion tokens (failed chunk)`,
      });
    });
  }

  /** Stops the run: the dataset fails with the reason; pending tasks stay, for a later resume. */
  async stop(datasetId: string, reason: string) {
    await this.db
      .update(trainingDatasets)
      .set({ status: "failed", error: reason, updatedAt: new Date() })
      .where(and(eq(trainingDatasets.id, datasetId), eq(trainingDatasets.status, "generating")));
  }

  async cancel(actor: Actor, datasetId: string) {
    await this.db
      .update(generationTasks)
      .set({ status: "skipped", reason: "cancelled", updatedAt: new Date() })
      .where(pendingTask(datasetId));
    return this.findById(actor, datasetId);
  }

  async hasPendingTasks(datasetId: string): Promise<boolean> {
    const [row] = await this.db.select({ n: count() }).from(generationTasks).where(pendingTask(datasetId));
    return (row?.n ?? 0) > 0;
  }

  /**
   * Creates a ready dataset holding the given pairs, all at once: an import either lands whole or not at
   * all. Returns undefined when the project already has a dataset of that name.
   */
  async createImported(
    actor: Actor,
    projectId: string,
    values: { name: string; format: DatasetRow["format"]; fileName: string },
    pairs: { messages: PairMessage[]; mode: PairMode; tokenCount: number }[],
  ): Promise<DatasetRow | undefined> {
    return this.db.transaction(async (tx) => {
      const [dataset] = await tx
        .insert(trainingDatasets)
        .values({
          userId: actor.userId,
          projectId,
          name: values.name,
          format: values.format,
          mode: "auto",
          status: "ready",
          generationOptions: { generator: "import", file: values.fileName },
        })
        .onConflictDoNothing()
        .returning();
      if (!dataset) return undefined;
      for (let start = 0; start < pairs.length; start += 1000) {
        await tx.insert(trainingPairs).values(
          pairs.slice(start, start + 1000).map((pair) => ({
            userId: actor.userId,
            datasetId: dataset.id,
            messages: pair.messages,
            mode: pair.mode,
            tokenCount: pair.tokenCount,
            generator: "import",
          })),
        );
      }
      return dataset;
    });
  }

  /** Every accepted pair's first user message, for dataset-wide scoring. */
  async pairQuestions(datasetId: string) {
    const rows = await this.db
      .select({
        id: trainingPairs.id,
        messages: trainingPairs.messages,
        breakdown: trainingPairs.qualityBreakdown,
      })
      .from(trainingPairs)
      .where(eq(trainingPairs.datasetId, datasetId))
      .orderBy(asc(trainingPairs.seq));
    return rows;
  }

  /** Writes final quality scores and marks the dataset ready, if it is still generating. */
  async finish(
    datasetId: string,
    scores: { id: string; score: number; breakdown: Record<string, number> }[],
  ) {
    await this.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      if (scores.length > 0) {
        await db.execute(sql`
          UPDATE training_pairs SET quality_score = t.score, quality_breakdown = t.breakdown::jsonb, updated_at = now()
          FROM unnest(${sql.param(scores.map((s) => s.id))}::uuid[], ${sql.param(scores.map((s) => s.score))}::real[],
            ${sql.param(scores.map((s) => JSON.stringify(s.breakdown)))}::text[]) AS t(id, score, breakdown)
          WHERE training_pairs.id = t.id`);
      }
      await db
        .update(trainingDatasets)
        .set({ status: "ready", updatedAt: new Date() })
        .where(and(eq(trainingDatasets.id, datasetId), eq(trainingDatasets.status, "generating")));
    });
  }

  /**
   * A dataset's accepted pairs in a stable order (the file's line order), read in pages so that memory
   * stays flat however large the dataset is.
   */
  async *acceptedPairs(actor: Actor, datasetId: string, pageSize = 2000) {
    let after = 0;
    for (;;) {
      const page = await this.db
        .select({
          id: trainingPairs.id,
          seq: trainingPairs.seq,
          messages: trainingPairs.messages,
          qualityScore: trainingPairs.qualityScore,
        })
        .from(trainingPairs)
        .where(
          and(
            eq(trainingPairs.datasetId, datasetId),
            eq(trainingPairs.userId, actor.userId),
            eq(trainingPairs.status, "accepted"),
            gt(trainingPairs.seq, after),
          ),
        )
        .orderBy(asc(trainingPairs.seq))
        .limit(pageSize);
      yield* page;
      const last = page.at(-1);
      if (!last || page.length < pageSize) return;
      after = last.seq;
    }
  }

  /** How many accepted pairs a dataset has: what a validation or an export will go through. */
  async acceptedPairCount(datasetId: string): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(trainingPairs)
      .where(and(eq(trainingPairs.datasetId, datasetId), eq(trainingPairs.status, "accepted")));
    return row?.n ?? 0;
  }

  /** Records which pairs the last validation found errors in. */
  async markValidity(datasetId: string, invalidIds: ReadonlySet<string>) {
    await this.db.transaction(async (tx) => {
      await tx.update(trainingPairs).set({ isValid: true }).where(eq(trainingPairs.datasetId, datasetId));
      if (invalidIds.size === 0) return;
      await tx
        .update(trainingPairs)
        .set({ isValid: false })
        .where(and(eq(trainingPairs.datasetId, datasetId), inArray(trainingPairs.id, [...invalidIds])));
    });
  }

  async listPairs(actor: Actor, datasetId: string, filter: PairFilter) {
    const where = and(
      eq(trainingPairs.datasetId, datasetId),
      eq(trainingPairs.userId, actor.userId),
      filter.status ? eq(trainingPairs.status, filter.status) : undefined,
      filter.valid === undefined ? undefined : eq(trainingPairs.isValid, filter.valid),
      filter.minQuality === undefined ? undefined : gte(trainingPairs.qualityScore, filter.minQuality),
      filter.maxQuality === undefined ? undefined : lte(trainingPairs.qualityScore, filter.maxQuality),
      filter.search ? searchedPairs(filter.search) : undefined,
    );
    const column = {
      quality: trainingPairs.qualityScore,
      tokens: trainingPairs.tokenCount,
      created: trainingPairs.seq,
    }[filter.sort ?? "created"];
    const [total] = await this.db.select({ n: count() }).from(trainingPairs).where(where);
    const pairs = await this.db
      .select()
      .from(trainingPairs)
      .where(where)
      .orderBy(filter.order === "desc" ? sql`${column} DESC NULLS LAST` : asc(column), asc(trainingPairs.seq))
      .limit(filter.limit)
      .offset(filter.offset);
    return { total: total?.n ?? 0, pairs };
  }

  /** A pair with its dataset's status and its source chunk's text, for editing. */
  /**
   * The user's pairs (of one dataset, if given) whose ids fall in `ids` (see `idRange`): at most two,
   * enough to tell one from many.
   */
  async findPairs(actor: Actor, ids: { low: string; high: string }, datasetId?: string) {
    return this.db
      .select({ pair: trainingPairs, datasetStatus: trainingDatasets.status, sourceText: chunks.text })
      .from(trainingPairs)
      .innerJoin(trainingDatasets, eq(trainingDatasets.id, trainingPairs.datasetId))
      .leftJoin(chunks, eq(chunks.id, trainingPairs.sourceChunkId))
      .where(
        and(
          between(trainingPairs.id, ids.low, ids.high),
          eq(trainingPairs.userId, actor.userId),
          datasetId ? eq(trainingPairs.datasetId, datasetId) : undefined,
        ),
      )
      .limit(2);
  }

  async insertPair(actor: Actor, datasetId: string, values: EditedPair) {
    const [row] = await this.db
      .insert(trainingPairs)
      .values({ ...values, userId: actor.userId, datasetId, generator: "manual" })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return row;
  }

  /**
   * Changes a pair; its provenance (source, generator, model, prompt version) stays as it was. Undefined
   * when no such pair is the user's, or (with `unchangedSince`) it was changed after then.
   */
  async updatePair(
    actor: Actor,
    pairId: string,
    values: Partial<EditedPair> & { status?: PairStatus; rejectionReason?: null },
    unchangedSince?: Date,
  ) {
    const [row] = await this.db
      .update(trainingPairs)
      .set({ ...values, updatedAt: new Date() })
      .where(
        and(
          eq(trainingPairs.id, pairId),
          eq(trainingPairs.userId, actor.userId),
          // PostgreSQL's clock (a generated pair's time) holds microseconds, which the API's time drops.
          unchangedSince
            ? sql`date_trunc('milliseconds', ${trainingPairs.updatedAt}) = ${unchangedSince.toISOString()}`
            : undefined,
        ),
      )
      .returning();
    return row;
  }

  async deletePairs(actor: Actor, datasetId: string, ids: string[]): Promise<number> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return 0;
    const rows = await this.db
      .delete(trainingPairs)
      .where(
        and(
          eq(trainingPairs.datasetId, datasetId),
          eq(trainingPairs.userId, actor.userId),
          inArray(trainingPairs.id, valid),
        ),
      )
      .returning({ id: trainingPairs.id });
    return rows.length;
  }

  async setSystemPrompt(actor: Actor, datasetId: string, systemPrompt: string | null) {
    const [row] = await this.db
      .update(trainingDatasets)
      .set({ systemPrompt, updatedAt: new Date() })
      .where(this.owned(actor, datasetId))
      .returning();
    return row;
  }
}
