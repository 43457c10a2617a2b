import type { Actor } from "../core/actor.js";
import { AppError, ConflictError, NotFoundError, ValidationError } from "../core/errors.js";
import { combineQuality, PairDiversity, scorePair } from "../core/generation/pair-quality.js";
import { reviewPair } from "../core/generation/pair-safety.js";
import { buildGenerationPrompt } from "../core/generation/prompts.js";
import {
  ChunkGenerationError,
  type GeneratedPair,
  GenerationStoppedError,
  type PairGenerator,
} from "../core/generation/types.js";
import { type GENERATORS, generateDatasetSchema } from "../core/inputs.js";
import { chatCostUsd } from "../core/prices.js";
import type { PairStatus } from "../core/statuses.js";
import { countChatTokens } from "../core/tokens.js";
import { isUniqueViolation } from "../db/errors.js";
import type {
  DatasetRow,
  DatasetsRepository,
  GenerationTask,
  NewPair,
} from "../db/repositories/datasets-repository.js";
import type { DocumentsRepository } from "../db/repositories/documents-repository.js";
import type { Logger } from "../logger.js";
import { parseInput } from "./parse-input.js";
import type { ProjectService } from "./project-service.js";

type GeneratorName = (typeof GENERATORS)[number];

/** Long enough for one chunk's calls with their retries and backoff; a worker that dies holds it this long. */
const CLAIM_SECONDS = 10 * 60;

const RESUME_HINT = "Then run `fineflow generate` again with the same dataset name to resume.";

/** The LLM generator for a user: their own endpoint, else the server's, else none. */
export interface LlmGenerators {
  isConfigured(actor: Actor): Promise<boolean>;
  /** Decrypts the user's key, if their endpoint needs one: call it only when about to generate. */
  generatorFor(actor: Actor): Promise<PairGenerator | undefined>;
}

export interface GenerationServiceDeps {
  datasets: DatasetsRepository;
  documents: DocumentsRepository;
  projects: ProjectService;
  /** The offline generator, and the way to each user's LLM endpoint. */
  generators: { extractive: PairGenerator; llm: LlmGenerators };
  enqueueChunk: (
    job: { userId: string; datasetId: string; chunkId: string },
    delaySeconds?: number,
  ) => Promise<void>;
  /** Many chunks at once, as a run starts or resumes. */
  enqueueChunks: (jobs: { userId: string; datasetId: string; chunkId: string }[]) => Promise<void>;
  enqueueFinish: (job: { userId: string; datasetId: string }) => Promise<void>;
  logger: Logger;
}

/** Dataset generation (seed Steps 1–3): selection, concurrent resumable per-chunk work, finishing. */
export class GenerationService {
  constructor(private readonly deps: GenerationServiceDeps) {}

  /**
   * Starts generating a new dataset, or resumes one of the same name that was interrupted, stopped or
   * cancelled. Each selected chunk becomes a queued job; progress is read with `get`.
   */
  async start(actor: Actor, projectId: string, body: unknown): Promise<DatasetRow> {
    const input = parseInput(generateDatasetSchema, body);
    const project = await this.deps.projects.get(actor, projectId);
    const existing = await this.deps.datasets.findByName(actor, project.id, input.datasetName);
    if (existing) return this.resume(actor, existing);

    const generator = await this.chooseGenerator(actor, input.generator);
    for (const id of input.documentIds ?? []) {
      const document = await this.deps.documents.findById(actor, id);
      if (!document || document.projectId !== project.id) {
        throw ValidationError.forField("documentIds", `${id} is not a document of project "${project.name}"`);
      }
    }
    let dataset: DatasetRow | undefined;
    try {
      dataset = await this.deps.datasets.createWithTasks(actor, project.id, { ...input, generator });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Dataset "${input.datasetName}" already exists.`);
      throw error;
    }
    if (!dataset) {
      throw new ValidationError(
        "No chunks to generate from: the selection needs ready documents with chunks that are not duplicates, " +
          "not flagged for prompt injection (or pass includeFlagged) and at or above minQuality.",
      );
    }
    return this.resume(actor, dataset);
  }

  private async chooseGenerator(actor: Actor, requested: GeneratorName | undefined): Promise<GeneratorName> {
    if (requested === "extractive") return requested;
    const configured = await this.deps.generators.llm.isConfigured(actor);
    if (requested === "llm" && !configured) {
      throw ValidationError.forField(
        "generator",
        "no LLM endpoint is configured: set yours with `fineflow llm set` (PUT /api/llm-endpoint), or the server's with FINEFLOW_LLM_BASE_URL and FINEFLOW_LLM_MODEL; or use the extractive generator",
      );
    }
    return configured ? "llm" : "extractive";
  }

  private async resume(actor: Actor, dataset: DatasetRow): Promise<DatasetRow> {
    if (dataset.status === "ready" || dataset.status === "training") {
      const { pending, failed } = await this.deps.datasets.progress(dataset.id);
      if (pending + failed === 0)
        throw new ConflictError(`Dataset "${dataset.name}" already exists and is complete.`);
    }
    const chunkIds = await this.deps.datasets.reopenTasks(dataset.id);
    await this.deps.enqueueChunks(
      chunkIds.map((chunkId) => ({ userId: actor.userId, datasetId: dataset.id, chunkId })),
    );
    // Nothing left to do (all done before a crash): finishing is what remains.
    if (chunkIds.length === 0) await this.deps.enqueueFinish({ userId: actor.userId, datasetId: dataset.id });
    return this.get(actor, dataset.id);
  }

  /** On the embedded database one process runs the workers: claims left by an earlier one are void. */
  releaseClaims(): Promise<void> {
    return this.deps.datasets.releaseClaims();
  }

  /** One chunk's work, run by a queue worker; a repeated or late job changes nothing. */
  async generateChunk(actor: Actor, datasetId: string, chunkId: string): Promise<void> {
    const task = await this.deps.datasets.loadTask(actor, datasetId, chunkId);
    if (!task) {
      // The chunk went with its document (deleted, or replaced by a new version), and its task with it: the
      // dataset may have no other task left to finish it, and would be "generating" for good.
      await this.finishWhenDone(actor, datasetId);
      return;
    }
    if (task.status !== "pending" || task.datasetStatus !== "generating") return;
    const claim = await this.deps.datasets.claimTask(datasetId, chunkId, CLAIM_SECONDS);
    if (!claim.claimed) {
      // Another worker is on it: look again once its claim runs out, in case that worker died.
      if (claim.retryInSeconds !== undefined) {
        await this.deps.enqueueChunk({ userId: actor.userId, datasetId, chunkId }, claim.retryInSeconds);
      }
      return;
    }
    try {
      await this.generateClaimed(actor, task, datasetId, chunkId);
    } finally {
      // Done, failed or stopped: a later resume may take the chunk at once.
      await this.deps.datasets.releaseClaim(datasetId, chunkId);
    }
    await this.finishWhenDone(actor, datasetId);
  }

  private async finishWhenDone(actor: Actor, datasetId: string) {
    if (!(await this.deps.datasets.hasPendingTasks(datasetId))) {
      await this.deps.enqueueFinish({ userId: actor.userId, datasetId });
    }
  }

  private async generateClaimed(actor: Actor, task: GenerationTask, datasetId: string, chunkId: string) {
    let generator: PairGenerator | undefined;
    try {
      generator =
        task.generator === "llm"
          ? await this.deps.generators.llm.generatorFor(actor)
          : this.deps.generators.extractive;
    } catch (error) {
      // The user's key could not be decrypted (another secret, a damaged value): no chunk can go on.
      if (!(error instanceof AppError)) throw error;
      await this.deps.datasets.stop(datasetId, `${error.message} ${RESUME_HINT}`);
      return;
    }
    if (!generator) {
      await this.deps.datasets.stop(
        datasetId,
        `No LLM endpoint is configured: set yours with \`fineflow llm set\` (or the server's FINEFLOW_LLM_BASE_URL). ${RESUME_HINT}`,
      );
      return;
    }
    try {
      const result = await generator.generate({
        chunk: {
          id: chunkId,
          documentId: task.documentId,
          text: task.chunkText,
          headingPath: task.headingPath,
          previous:
            task.previousText === null
              ? undefined
              : { text: task.previousText, headingPath: task.previousHeadingPath ?? [] },
        },
        mode: task.mode,
        pairsPerChunk: task.pairsPerChunk,
      });
      const usage = result.usage ?? { promptTokens: 0, completionTokens: 0 };
      await this.deps.datasets.completeTask(actor, task, datasetId, chunkId, {
        generator: generator.name,
        model: result.model,
        promptVersion: result.promptVersion,
        // A model may return more than asked; the user asked for at most this many per chunk.
        pairs: result.pairs.slice(0, task.pairsPerChunk).map((pair) => this.assess(pair, task)),
        ...usage,
        costUsd: result.usage ? chatCostUsd(result.model, result.usage) : undefined,
      });
    } catch (error) {
      if (error instanceof GenerationStoppedError) {
        await this.deps.datasets.stop(datasetId, error.message);
        return;
      }
      if (!(error instanceof ChunkGenerationError)) throw error;
      const costUsd = error.usage && error.model ? chatCostUsd(error.model, error.usage) : undefined;
      await this.deps.datasets.failTask(actor, datasetId, chunkId, error.message, {
        usage: error.usage,
        model: error.model,
        costUsd,
      });
    }
  }

  /** The seed's safety filter and the pair's own quality; a filtered pair is kept, as rejected. */
  private assess(pair: GeneratedPair, task: GenerationTask): NewPair {
    const review = reviewPair(pair, { sourceText: task.chunkText, promptTexts: this.promptTexts(task) });
    const quality = scorePair(pair, task.chunkText, 1);
    const status: PairStatus = review.rejected ? "rejected" : "accepted";
    return {
      messages: pair.messages,
      mode: pair.mode,
      status,
      rejectionReason: review.rejected ? review.reasons.join("; ") : null,
      qualityScore: quality.score,
      qualityBreakdown: { ...quality.breakdown },
      tokenCount: countChatTokens(pair.messages),
    };
  }

  /** Text a pair must not leak: FineFlow's generation prompt and the dataset's own system prompt. */
  private promptTexts(task: GenerationTask): string[] {
    const prompt = buildGenerationPrompt({
      mode: task.mode,
      chunkText: "",
      headingPath: [],
      pairsPerChunk: 1,
    });
    const system = prompt.messages.find((m) => m.role === "system")?.content ?? "";
    return task.systemPrompt ? [system, task.systemPrompt] : [system];
  }

  /**
   * Once no chunk is pending: scores each pair's diversity against the dataset's other pairs (which only
   * the whole dataset can tell) and marks the dataset ready.
   */
  async finish(datasetId: string): Promise<void> {
    if (await this.deps.datasets.hasPendingTasks(datasetId)) return;
    const pairs = await this.deps.datasets.pairQuestions(datasetId);
    const diversity = new PairDiversity();
    const userText = (messages: { role: string; content: string }[]) =>
      messages
        .filter((m) => m.role === "user")
        .map((m) => m.content)
        .join("\n");
    for (const pair of pairs) diversity.add(pair.id, userText(pair.messages));
    const scores = pairs.map((pair) => {
      const breakdown = {
        length: pair.breakdown?.length ?? 0,
        grounding: pair.breakdown?.grounding ?? 0,
        diversity: diversity.score(pair.id),
      };
      return { id: pair.id, breakdown, score: combineQuality(breakdown) };
    });
    await this.deps.datasets.finish(datasetId, scores);
  }

  async cancel(actor: Actor, datasetId: string): Promise<DatasetRow> {
    const dataset = await this.getRow(actor, datasetId);
    if (dataset.status !== "generating") {
      throw new ConflictError(`Dataset "${dataset.name}" is not generating (it is ${dataset.status}).`);
    }
    await this.deps.datasets.cancel(actor, datasetId);
    await this.finish(datasetId);
    return this.getRow(actor, datasetId);
  }

  private async getRow(actor: Actor, datasetId: string): Promise<DatasetRow> {
    const dataset = await this.deps.datasets.findById(actor, datasetId);
    if (!dataset) throw new NotFoundError("Dataset", datasetId);
    return dataset;
  }

  async get(actor: Actor, datasetId: string) {
    const dataset = await this.getRow(actor, datasetId);
    return { ...dataset, progress: await this.deps.datasets.progress(dataset.id) };
  }

  /** With each dataset's progress, as `get` gives it: a user has few datasets, and lists show it. */
  async list(actor: Actor, filter: { projectId?: string; name?: string }) {
    if (filter.projectId) await this.deps.projects.get(actor, filter.projectId);
    const datasets = await this.deps.datasets.list(actor, filter);
    return Promise.all(
      datasets.map(async (dataset) => ({
        ...dataset,
        progress: await this.deps.datasets.progress(dataset.id),
      })),
    );
  }
}
