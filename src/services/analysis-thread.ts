import { Worker } from "node:worker_threads";
import type { AnalyzedChunk } from "../core/analyze-chunks.js";
import type { DocumentType } from "../core/document-types.js";
import { DocumentParseError, type DocumentParseFailure } from "../parsers/parse-document.js";
import type { ChunkingSettings } from "./analyze-document.js";

export interface AnalysisRequest {
  type: DocumentType;
  bytes: Uint8Array;
  chunking: ChunkingSettings;
}
/** A DocumentParseError keeps its `reason`; any other error has only its message, for the log. */
export type AnalysisReply =
  | { chunks: AnalyzedChunk[] }
  | { failure: { reason?: DocumentParseFailure; message: string } };

export interface AnalysisThreadOptions {
  /** The thread's heap limit; a document that needs more fails. Unset: Node's default. */
  maxHeapMb?: number;
  /** How long the thread waits for another document before it stops (IDLE_STOP_MS). */
  idleStopMs?: number;
}

interface Reply {
  resolve(chunks: AnalyzedChunk[]): void;
  reject(error: Error): void;
}

interface Job extends Reply {
  request: AnalysisRequest;
}

/**
 * The thread's young generation, instead of V8's default of up to 16 MB per semi-space: its short-lived
 * garbage is collected sooner. On the 50 MB ingest benchmark (PGlite), peak RSS went from 483–492 MB to
 * 442–443 MB in three runs of four (496 MB in the other), at the same speed: 20.6–26.3 s, then 21–23 s.
 */
const YOUNG_GENERATION_MB = 4;

/**
 * A thread left idle this long stops, giving its memory back: after a 5 MB document it held ~150 MB, all
 * of it returned when it stopped. Starting the next one takes under a second, and documents uploaded
 * together come back to back.
 */
const IDLE_STOP_MS = 60_000;

const entry = new URL(`./analysis-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);

/**
 * The thread runs TypeScript when FineFlow runs from its sources (`bin/fineflow.js`, the tests), and a new
 * thread does not inherit the main thread's tsx hooks: it registers its own first.
 */
function startWorker(options: AnalysisThreadOptions): Worker {
  const resourceLimits = {
    maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
    ...(options.maxHeapMb ? { maxOldGenerationSizeMb: options.maxHeapMb } : {}),
  };
  if (!entry.pathname.endsWith(".ts")) return new Worker(entry, { resourceLimits });
  const tsx = import.meta.resolve("tsx/esm/api");
  const script = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(script, { eval: true, resourceLimits });
}

/**
 * Documents are analysed (parsed, chunked, scored, scanned, fingerprinted: `analyzeDocument`) on a thread
 * of their own, one at a time. The main thread stays free meanwhile for the database, the queue and HTTP,
 * so one document's analysis overlaps the storing of the one before it, and a large document no longer
 * holds up every request for seconds. A document that exhausts the thread's heap fails alone: the thread
 * is replaced, where before it took the whole process down. The thread starts with the first document;
 * while it waits for the next it does not keep the process alive, and after a minute it stops.
 */
export class AnalysisThread {
  private worker?: Worker;
  private idleTimer?: NodeJS.Timeout;
  /**
   * Only where the answer goes: holding the whole job kept a document's bytes (47 MB and more) alive
   * through its analysis, after the thread had its own copy.
   */
  private running?: Reply;
  private readonly waiting: Job[] = [];
  private closed = false;

  constructor(private readonly options: AnalysisThreadOptions = {}) {}

  /** Whether a thread is running now, busy or waiting for work. */
  get alive(): boolean {
    return this.worker !== undefined;
  }

  analyze(type: DocumentType, bytes: Uint8Array, chunking: ChunkingSettings): Promise<AnalyzedChunk[]> {
    if (this.closed) return Promise.reject(new Error("The document analysis thread was closed."));
    return new Promise((resolve, reject) => {
      this.waiting.push({ request: { type, bytes, chunking }, resolve, reject });
      this.sendNext();
    });
  }

  /**
   * Sends the next document once the thread is free. They wait here rather than in the thread's own
   * queue, so that the one a dead thread was working on is known: the others are sent to its successor.
   */
  private sendNext(): void {
    if (this.running) return;
    const job = this.waiting.shift();
    if (!job) {
      this.idle();
      return;
    }
    clearTimeout(this.idleTimer);
    this.running = { resolve: job.resolve, reject: job.reject };
    const worker = this.current();
    worker.ref();
    // A copy of its own, moved to the thread: the bytes given may be a view into a larger buffer.
    const bytes = job.request.bytes.slice();
    worker.postMessage({ ...job.request, bytes } satisfies AnalysisRequest, [bytes.buffer]);
  }

  private current(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.options);
    worker.on("message", (reply: AnalysisReply) => {
      const job = this.finish();
      if ("chunks" in reply) job?.resolve(reply.chunks);
      else if (reply.failure.reason)
        job?.reject(new DocumentParseError(reply.failure.reason, reply.failure.message));
      else job?.reject(new Error(reply.failure.message));
      this.sendNext();
    });
    // An error (out of memory above all) is followed by the exit: whichever comes first ends the thread.
    const died = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.finish()?.reject(error);
      if (!this.closed) this.sendNext();
    };
    worker.on("error", (error: NodeJS.ErrnoException) => died(this.readable(error)));
    worker.on("exit", (code) => died(new Error(`The document analysis thread stopped (exit code ${code}).`)));
    this.worker = worker;
    return worker;
  }

  /** A waiting thread does not keep the process alive, and stops if no document comes. */
  private idle(): void {
    const worker = this.worker;
    if (!worker) return;
    worker.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.worker = undefined; // before it exits: the exit is not a failure
      void worker.terminate();
    }, this.options.idleStopMs ?? IDLE_STOP_MS);
    this.idleTimer.unref();
  }

  private finish(): Reply | undefined {
    const job = this.running;
    this.running = undefined;
    return job;
  }

  private readable(error: NodeJS.ErrnoException): Error {
    if (error.code !== "ERR_WORKER_OUT_OF_MEMORY") return error;
    const limit = this.options.maxHeapMb
      ? `the ${this.options.maxHeapMb} MB that FINEFLOW_ANALYSIS_MEMORY_MB allows`
      : "FineFlow could give it";
    return new DocumentParseError(
      "too_large",
      `Processing this document needed more memory than ${limit}. Split it into smaller files and upload them.`,
    );
  }

  /** Stops the thread; the documents it had not finished fail. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const job of this.waiting.splice(0))
      job.reject(new Error("The document analysis thread was closed."));
    await this.worker?.terminate();
  }
}
