import type { Logger } from "../logger.js";

type Listen = (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>;

interface Subscriber {
  userId: string;
  jobId?: string;
  onUpdate(jobId: string): void;
}

/**
 * The seed's realtime subscription to `training_jobs` updates, on PostgreSQL's LISTEN/NOTIFY (both
 * backends): a trigger announces each changed job with its owner; this hub listens once per process and
 * tells only that owner's subscribers, who then load the row through the user-scoped service.
 */
export class TrainingUpdates {
  private readonly subscribers = new Set<Subscriber>();
  private listening?: Promise<() => Promise<void>>;

  constructor(
    private readonly listen: Listen,
    private readonly logger: Logger,
  ) {}

  /** Calls `onUpdate` with the id of each of the user's jobs (or of one job) that changes. */
  async subscribe(userId: string, jobId: string | undefined, onUpdate: (jobId: string) => void) {
    const subscriber: Subscriber = { userId, jobId, onUpdate };
    this.subscribers.add(subscriber);
    try {
      this.listening ??= this.listen("training_jobs", (payload) => this.dispatch(payload));
      await this.listening;
    } catch (error) {
      this.subscribers.delete(subscriber);
      this.listening = undefined;
      throw error;
    }
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  private dispatch(payload: string) {
    let change: { id?: unknown; userId?: unknown };
    try {
      change = JSON.parse(payload);
    } catch {
      this.logger.warn("unreadable training_jobs notification");
      return;
    }
    for (const subscriber of this.subscribers) {
      if (subscriber.userId !== change.userId) continue;
      if (subscriber.jobId && subscriber.jobId !== change.id) continue;
      subscriber.onUpdate(String(change.id));
    }
  }

  async close() {
    const stop = this.listening;
    this.listening = undefined;
    this.subscribers.clear();
    if (stop) await (await stop)();
  }
}
