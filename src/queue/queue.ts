import PgBoss from "pg-boss";
import type { Database } from "../db/client.js";
import type { Logger } from "../logger.js";

/** A kind of background work: a name, a handler that delegates to a service, and an optional cron. */
export interface JobDefinition<T extends object = object> {
  name: string;
  handle(data: T): Promise<unknown>;
  /** Cron expression for recurring work (UTC). */
  cron?: string;
}

export interface QueueOptions {
  /** How many jobs of each kind one process runs at once. */
  concurrency: number;
  pollingIntervalSeconds?: number;
}

/**
 * Background work in the application's own database through pg-boss: on PostgreSQL shared by every
 * `fineflow worker`, on PGlite in-process through the same SQL connection (pg-boss's `db` option).
 */
export class Queue {
  private constructor(
    private readonly boss: PgBoss,
    private readonly options: QueueOptions,
  ) {}

  static async start(database: Database, logger: Logger, options: QueueOptions): Promise<Queue> {
    const boss = new PgBoss({
      db: { executeSql: (text, values) => database.executeSql(text, values) },
      // Jobs and their history are cleared on their own: a week of archive is plenty to debug with.
      deleteAfterDays: 7,
    });
    boss.on("error", (error: Error) => logger.error("queue error", { error: error.message }));
    await boss.start();
    return new Queue(boss, options);
  }

  async send<T extends object>(job: JobDefinition<T>, data: T): Promise<string> {
    await this.boss.createQueue(job.name);
    const id = await this.boss.send(job.name, data);
    if (!id) throw new Error(`The queue refused a ${job.name} job.`);
    return id;
  }

  /** Runs the given kinds of jobs in this process and schedules the recurring ones. */
  async work(jobs: JobDefinition[]): Promise<void> {
    for (const job of jobs) {
      await this.boss.createQueue(job.name);
      const work = { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2 };
      for (let i = 0; i < this.options.concurrency; i++) {
        await this.boss.work<object>(job.name, work, async ([next]) => next && job.handle(next.data));
      }
      if (job.cron) await this.boss.schedule(job.name, job.cron);
    }
  }

  async state(job: JobDefinition, id: string): Promise<{ state: string; output: unknown } | undefined> {
    const found = await this.boss.getJobById(job.name, id, { includeArchive: true });
    return found ? { state: found.state, output: found.output } : undefined;
  }

  stop(): Promise<void> {
    return this.boss.stop({ graceful: true, wait: true, close: false });
  }
}
