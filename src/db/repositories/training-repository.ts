import { and, asc, desc, eq, gte, inArray, lt, notInArray, sql } from "drizzle-orm";
import type { Actor } from "../../core/actor.js";
import { isUuid } from "../../core/ids.js";
import type { TrainingJobStatus } from "../../core/statuses.js";
import { TERMINAL_TRAINING_STATUSES } from "../../core/training/lifecycle.js";
import type { ProviderEvent, StepMetrics } from "../../core/training/provider.js";
import type { Db } from "../client.js";
import { projects, spendLedger, trainingDatasets, trainingJobEvents, trainingJobs } from "../schema.js";

export type TrainingJobRow = typeof trainingJobs.$inferSelect;
export type TrainingJobEventRow = typeof trainingJobEvents.$inferSelect;
type NewTrainingJob = typeof trainingJobs.$inferInsert;
export type TrainingJobPatch = Partial<Omit<NewTrainingJob, "id" | "userId" | "projectId" | "datasetId">>;

const terminal = [...TERMINAL_TRAINING_STATUSES];

/** A job's reservation leaves the ledger when a better figure (a quote, the actual cost) takes its place. */
function dropReservation(db: Pick<Db, "delete">, jobId: string) {
  return db
    .delete(spendLedger)
    .where(and(eq(spendLedger.trainingJobId, jobId), eq(spendLedger.kind, "training_reservation")));
}

export class TrainingRepository {
  constructor(private readonly db: Db) {}

  private owned(actor: Actor, id: string) {
    return and(eq(trainingJobs.id, id), eq(trainingJobs.userId, actor.userId));
  }

  /**
   * Creates the job, moves its dataset from `ready` to `training` and reserves the estimate in the spend
   * ledger, all or nothing. Undefined when the dataset is not `ready` (another job took it first).
   * `budget.check` is given the project's spend since `budget.since` as it stands while no other job of the
   * project can start, and throws to refuse: two starts that each fit the budget alone both passed it.
   */
  async create(
    actor: Actor,
    values: Omit<NewTrainingJob, "userId" | "status">,
    reservation: { amountUsd: number; description: string } | undefined,
    budget: { since: Date; check: (spentUsd: number) => void },
  ): Promise<TrainingJobRow | undefined> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT 1 FROM ${projects} WHERE ${projects.id} = ${values.projectId} FOR UPDATE`);
      budget.check(await spendSince(tx, values.projectId, budget.since));
      const [dataset] = await tx
        .update(trainingDatasets)
        .set({ status: "training", updatedAt: new Date() })
        .where(
          and(
            eq(trainingDatasets.id, values.datasetId),
            eq(trainingDatasets.userId, actor.userId),
            eq(trainingDatasets.status, "ready"),
          ),
        )
        .returning({ id: trainingDatasets.id });
      if (!dataset) return undefined;
      const [job] = await tx
        .insert(trainingJobs)
        .values({ ...values, userId: actor.userId, status: "pending" })
        .returning();
      if (!job) throw new Error("insert returned no row");
      if (reservation) {
        await tx.insert(spendLedger).values({
          userId: actor.userId,
          projectId: job.projectId,
          kind: "training_reservation",
          amountUsd: reservation.amountUsd,
          datasetId: job.datasetId,
          trainingJobId: job.id,
          description: reservation.description,
        });
      }
      return job;
    });
  }

  async find(actor: Actor, id: string): Promise<TrainingJobRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(trainingJobs).where(this.owned(actor, id));
    return row;
  }

  list(actor: Actor, filter: { projectId?: string; datasetId?: string }): Promise<TrainingJobRow[]> {
    return this.db
      .select()
      .from(trainingJobs)
      .where(
        and(
          eq(trainingJobs.userId, actor.userId),
          filter.projectId ? eq(trainingJobs.projectId, filter.projectId) : undefined,
          filter.datasetId ? eq(trainingJobs.datasetId, filter.datasetId) : undefined,
        ),
      )
      .orderBy(desc(trainingJobs.createdAt));
  }

  /**
   * Jobs not ended whose tracking is not paused (and, with `idleSince`, that nothing has touched since):
   * what a restart or the watchdog picks up again.
   */
  async tracked(idleSince?: Date): Promise<TrainingJobRow[]> {
    return this.db
      .select()
      .from(trainingJobs)
      .where(
        and(
          notInArray(trainingJobs.status, terminal),
          sql`${trainingJobs.trackingPausedAt} IS NULL`,
          idleSince ? lt(trainingJobs.updatedAt, idleSince) : undefined,
        ),
      );
  }

  /**
   * Updates a job that has not ended; undefined when it has (a cancel won the race), so a late poll never
   * overwrites a final state.
   */
  async update(actor: Actor, id: string, patch: TrainingJobPatch): Promise<TrainingJobRow | undefined> {
    const [row] = await this.db
      .update(trainingJobs)
      .set({ ...patch, updatedAt: new Date() })
      .where(and(this.owned(actor, id), notInArray(trainingJobs.status, terminal)))
      .returning();
    return row;
  }

  /**
   * Ends the job: its final fields, the reservation replaced by the actual cost (when known) and the dataset
   * back to `ready` — all or nothing. Undefined when the job had already ended.
   */
  async finish(
    actor: Actor,
    id: string,
    patch: TrainingJobPatch & { status: TrainingJobStatus },
    spend: { amountUsd: number; description: string } | undefined,
  ): Promise<TrainingJobRow | undefined> {
    return this.db.transaction(async (tx) => {
      const [job] = await tx
        .update(trainingJobs)
        .set({ ...patch, finishedAt: new Date(), updatedAt: new Date(), pollToken: null })
        .where(and(this.owned(actor, id), notInArray(trainingJobs.status, terminal)))
        .returning();
      if (!job) return undefined;
      await dropReservation(tx, id);
      if (spend && spend.amountUsd > 0) {
        await tx.insert(spendLedger).values({
          userId: actor.userId,
          projectId: job.projectId,
          kind: "training",
          amountUsd: spend.amountUsd,
          datasetId: job.datasetId,
          trainingJobId: job.id,
          description: spend.description,
        });
      }
      await tx
        .update(trainingDatasets)
        .set({ status: "ready", updatedAt: new Date() })
        .where(and(eq(trainingDatasets.id, job.datasetId), eq(trainingDatasets.status, "training")));
      return job;
    });
  }

  /** Replaces the job's estimate, and its reservation in the ledger, with a better one (the provider's quote). */
  async reprice(actor: Actor, id: string, amountUsd: number, description: string) {
    return this.db.transaction(async (tx) => {
      const [job] = await tx
        .update(trainingJobs)
        .set({ estimatedCostUsd: amountUsd, updatedAt: new Date() })
        .where(and(this.owned(actor, id), notInArray(trainingJobs.status, terminal)))
        .returning();
      if (!job) return undefined;
      await dropReservation(tx, id);
      await tx.insert(spendLedger).values({
        userId: actor.userId,
        projectId: job.projectId,
        kind: "training_reservation",
        amountUsd,
        datasetId: job.datasetId,
        trainingJobId: job.id,
        description,
      });
      return job;
    });
  }

  /** Stores events not seen before (one row per provider event id); returns how many were new. */
  async addEvents(jobId: string, events: ProviderEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const inserted = await this.db
      .insert(trainingJobEvents)
      .values(
        events.map((event) => ({
          jobId,
          providerEventId: event.id,
          occurredAt: event.createdAt,
          level: event.level,
          type: event.type,
          message: event.message,
          step: event.metrics?.step,
          trainLoss: event.metrics?.trainLoss,
          validLoss: event.metrics?.validLoss,
          trainAccuracy: event.metrics?.trainAccuracy,
          validAccuracy: event.metrics?.validAccuracy,
          data:
            event.metrics?.totalSteps === undefined ? undefined : { totalSteps: event.metrics.totalSteps },
        })),
      )
      .onConflictDoNothing()
      .returning({ id: trainingJobEvents.id });
    return inserted.length;
  }

  /** The provider's id of the newest event stored for a job: where the next poll's reading stops. */
  async newestEventId(jobId: string): Promise<string | undefined> {
    const [row] = await this.db
      .select({ id: trainingJobEvents.providerEventId })
      .from(trainingJobEvents)
      .where(eq(trainingJobEvents.jobId, jobId))
      .orderBy(desc(trainingJobEvents.occurredAt), desc(trainingJobEvents.id))
      .limit(1);
    return row?.id;
  }

  /** The newest metrics stored for a job, for its progress line. */
  async latestMetrics(jobId: string): Promise<StepMetrics | undefined> {
    const [row] = await this.db
      .select()
      .from(trainingJobEvents)
      .where(and(eq(trainingJobEvents.jobId, jobId), eq(trainingJobEvents.type, "metrics")))
      .orderBy(desc(trainingJobEvents.occurredAt), desc(trainingJobEvents.id))
      .limit(1);
    if (!row || row.step === null) return undefined;
    const totalSteps = row.data?.totalSteps;
    return {
      step: row.step,
      totalSteps: typeof totalSteps === "number" ? totalSteps : undefined,
      trainLoss: row.trainLoss ?? undefined,
      validLoss: row.validLoss ?? undefined,
      trainAccuracy: row.trainAccuracy ?? undefined,
      validAccuracy: row.validAccuracy ?? undefined,
    };
  }

  async events(actor: Actor, jobId: string, types?: string[]): Promise<TrainingJobEventRow[]> {
    const job = await this.find(actor, jobId);
    if (!job) return [];
    return this.db
      .select()
      .from(trainingJobEvents)
      .where(
        and(eq(trainingJobEvents.jobId, jobId), types ? inArray(trainingJobEvents.type, types) : undefined),
      )
      .orderBy(asc(trainingJobEvents.occurredAt), asc(trainingJobEvents.id));
  }

  /** Spent and reserved by the project since `since` (the start of the month), generation included. */
  spendSince(projectId: string, since: Date): Promise<number> {
    return spendSince(this.db, projectId, since);
  }
}

async function spendSince(db: Pick<Db, "select">, projectId: string, since: Date): Promise<number> {
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${spendLedger.amountUsd}), 0)` })
    .from(spendLedger)
    .where(and(eq(spendLedger.projectId, projectId), gte(spendLedger.occurredAt, since)));
  return Number(row?.total ?? 0);
}
