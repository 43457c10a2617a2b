import { randomUUID } from "node:crypto";
import PgBoss from "pg-boss";
import type { Database } from "../db/client.js";
import type { Logger } from "../logger.js";

/** pg-boss's default schema, which FineFlow keeps. */
const PGBOSS_SCHEMA = "pgboss";

/** A kind of background work: a name, a handler that delegates to a service, and an optional cron. */
export interface JobDefinition<T extends object = object> {
  name: string;
  handle(data: T): Promise<unknown>;
  /** Cron expression for recurring work (UTC). */
  cron?: string;
  /** At most this many at once in one process, below the queue's own concurrency. */
  concurrency?: number;
  /**
   * After each job pg-boss waits out the polling interval unless notified, so a backlog goes at one job
   * per interval per worker. Work that arrives in bulk (a folder of documents) sets this: a worker that
   * found one of these jobs looks for the next at once.
   */
  backToBack?: boolean;
  /**
   * How long a job may run before pg-boss fails it (and retries it while it has retries): 15 minutes unless
   * set. A dead process's jobs are retried by heartbeat long before (`retryOrphaned`); this bounds only work
   * that hangs in a live process.
   */
  expireInSeconds?: number;
}

export interface QueueOptions {
  /** How many jobs of each kind one process runs at once. */
  concurrency: number;
  pollingIntervalSeconds?: number;
  /** How often a process running jobs says it is alive and which jobs it runs (`queue_workers`). */
  heartbeatSeconds?: number;
}

/**
 * A job running this long that no process has named in a heartbeat as long is taken to have died with its
 * process, and is retried. Several heartbeats long, so that a process busy for a while (a large document's
 * statements) is not mistaken for a dead one; far below pg-boss's 15-minute expiry.
 */
const ORPHANED_AFTER_SECONDS = 120;
const HEARTBEAT_SECONDS = 15;
/** Rows of processes silent this long are deleted; a process that comes back writes its row again. */
const FORGET_WORKERS_AFTER_SECONDS = 24 * 60 * 60;

const INTERRUPTED = "The process running this job stopped before it finished.";

const expiry = (job: JobDefinition) => (job.expireInSeconds ? { expireInSeconds: job.expireInSeconds } : {});

/**
 * Background work in the application's own database through pg-boss: on PostgreSQL shared by every
 * `fineflow worker`, on PGlite in-process through the same SQL connection (pg-boss's `db` option).
 */
export class Queue {
  private started?: Promise<PgBoss>;
  private readonly queues = new Set<string>();
  /**
   * This process's workers per job name. A send wakes one of them, in turn, instead of leaving the job to
   * their next poll: waking all of them made every send cost one fetch per worker (on PGlite, a tenth of
   * a large ingest).
   */
  private readonly workers = new Map<string, { ids: string[]; next: number }>();
  /** This process in `queue_workers`, and the ids of the jobs it is running. */
  private readonly id = randomUUID();
  private readonly running = new Set<string>();
  private heartbeat?: NodeJS.Timeout;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    private readonly options: QueueOptions,
  ) {}

  /** pg-boss starts on first use, so commands that queue nothing never pay for it. */
  private boss(): Promise<PgBoss> {
    this.started ??= (async () => {
      const boss = new PgBoss({
        db: { executeSql: (text, values) => this.database.executeSql(text, values) },
        // Jobs and their history are cleared on their own: a week of archive is plenty to debug with.
        deleteAfterDays: 7,
      });
      boss.on("error", (error: Error) => this.logger.error("queue error", { error: error.message }));
      await boss.start();
      return boss;
    })();
    return this.started;
  }

  /** Starts now rather than on first use; on a new database this installs pg-boss's schema. */
  async start(): Promise<void> {
    await this.boss();
  }

  private async ensureQueue(boss: PgBoss, name: string) {
    if (this.queues.has(name)) return;
    await boss.createQueue(name);
    this.queues.add(name);
  }

  /** Queues a job, to run now or once `delaySeconds` have passed. */
  async send<T extends object>(job: JobDefinition<T>, data: T, delaySeconds = 0): Promise<string> {
    const boss = await this.boss();
    await this.ensureQueue(boss, job.name);
    const startAfter = delaySeconds > 0 ? new Date(Date.now() + delaySeconds * 1000) : undefined;
    const id = await boss.send(job.name, data, {
      ...(startAfter ? { startAfter } : {}),
      ...expiry(job),
    });
    if (!id) throw new Error(`The queue refused a ${job.name} job.`);
    if (!startAfter) this.wake(boss, job.name, 1);
    return id;
  }

  /**
   * Queues many jobs of one kind to run now, in one statement (a send each held PGlite for ~0.3 s per
   * 240 jobs while the first ones waited to start), and wakes as many of this process's workers.
   */
  async sendAll<T extends object>(job: JobDefinition<T>, data: readonly T[]): Promise<void> {
    if (data.length === 0) return;
    const boss = await this.boss();
    await this.ensureQueue(boss, job.name);
    await boss.insert(data.map((item) => ({ name: job.name, data: item, ...expiry(job) })));
    this.wake(boss, job.name, data.length);
  }

  /** Wakes up to `count` of this process's workers of a kind, each in turn, for jobs just queued. */
  private wake(boss: PgBoss, name: string, count: number): void {
    const workers = this.workers.get(name);
    for (let i = 0; workers && i < Math.min(count, workers.ids.length); i++) {
      boss.notifyWorker(workers.ids[workers.next++ % workers.ids.length] as string);
    }
  }

  /**
   * Retries now the jobs an earlier process left running: for the embedded database only, where no other
   * process can be running them. pg-boss would leave each until its expiry (15 minutes), and a document
   * that was being processed when `fineflow ingest` was stopped held the next `ingest` that long. Each
   * counts as a failed attempt, so a job that takes its process down is not retried for ever.
   */
  async retryInterrupted(): Promise<void> {
    // pg-boss lists no jobs by state; its table is read as its own retry-on-timeout does.
    await this.retry(`SELECT name, id FROM ${PGBOSS_SCHEMA}.job WHERE state = 'active'`);
  }

  /**
   * Retries the jobs whose process died (or lost the database) while running them, on PostgreSQL where
   * many processes share the queue: jobs started over `afterSeconds` ago that no process has named in a
   * heartbeat since. Run every minute by one of the workers (`queue.retry-orphaned`); returns how many.
   */
  async retryOrphaned(afterSeconds = ORPHANED_AFTER_SECONDS): Promise<number> {
    await this.database.executeSql(
      "DELETE FROM queue_workers WHERE beat_at < now() - make_interval(secs => $1)",
      [FORGET_WORKERS_AFTER_SECONDS],
    );
    // This process's own jobs are alive whatever its row says: its beat may have waited behind a long
    // statement (on PGlite, behind a large document's transaction) as long as this query did.
    return this.retry(
      `SELECT j.name, j.id FROM ${PGBOSS_SCHEMA}.job j
        WHERE j.state = 'active' AND j.started_on < now() - make_interval(secs => $1)
          AND NOT (j.id = ANY ($2::uuid[]))
          AND NOT EXISTS (SELECT 1 FROM queue_workers w
            WHERE j.id = ANY (w.job_ids) AND w.beat_at >= now() - make_interval(secs => $1))`,
      [afterSeconds, this.runningIds()],
    );
  }

  /** Fails the jobs the query finds, as interrupted: pg-boss retries each while it has retries left. */
  private async retry(query: string, values?: unknown[]): Promise<number> {
    const boss = await this.boss();
    const { rows } = await this.database.executeSql(query, values);
    for (const { name, id } of rows as { name: string; id: string }[]) {
      await boss.fail(name, id, { message: INTERRUPTED });
    }
    return rows.length;
  }

  /** The ids of the jobs this process runs, as a uuid[] literal (the one form both drivers send as is). */
  private runningIds(): string {
    return `{${[...this.running].join(",")}}`;
  }

  /** Tells the other processes this one is alive and which jobs it runs. */
  private async beat(): Promise<void> {
    try {
      await this.database.executeSql(
        `INSERT INTO queue_workers (id, beat_at, job_ids) VALUES ($1, now(), $2::uuid[])
          ON CONFLICT (id) DO UPDATE SET beat_at = now(), job_ids = EXCLUDED.job_ids`,
        [this.id, this.runningIds()],
      );
    } catch (error) {
      // The next beat tries again; missing several lets another process retry this one's jobs.
      this.logger.error("queue heartbeat failed", { error: (error as Error).message });
    }
  }

  /** Runs the given kinds of jobs in this process and schedules the recurring ones. */
  async work(jobs: JobDefinition[]): Promise<void> {
    const boss = await this.boss();
    for (const job of jobs) {
      await this.ensureQueue(boss, job.name);
      const options = { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2 };
      const ids: string[] = [];
      for (let i = 0; i < Math.min(job.concurrency ?? Infinity, this.options.concurrency); i++) {
        let id = "";
        id = await boss.work<object>(job.name, options, async ([next]) => {
          if (job.backToBack) boss.notifyWorker(id);
          if (!next) return;
          this.running.add(next.id);
          try {
            return await job.handle(next.data);
          } finally {
            this.running.delete(next.id);
          }
        });
        ids.push(id);
      }
      this.workers.set(job.name, { ids, next: 0 });
      if (job.cron) await boss.schedule(job.name, job.cron);
    }
    if (!this.heartbeat) {
      await this.beat();
      const seconds = this.options.heartbeatSeconds ?? HEARTBEAT_SECONDS;
      this.heartbeat = setInterval(() => {
        this.beating = this.beat();
      }, seconds * 1000);
      this.heartbeat.unref();
    }
  }

  async state(job: JobDefinition, id: string): Promise<{ state: string; output: unknown } | undefined> {
    const found = await (await this.boss()).getJobById(job.name, id, { includeArchive: true });
    return found ? { state: found.state, output: found.output } : undefined;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    // Beating on while the running jobs finish: a long one would otherwise be retried elsewhere meanwhile.
    await (await this.started).stop({ graceful: true, wait: true, close: false });
    if (this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      await this.beating;
      await this.database.executeSql("DELETE FROM queue_workers WHERE id = $1", [this.id]);
    }
  }
}
