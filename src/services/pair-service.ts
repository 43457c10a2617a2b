import { z } from "zod";
import type { Actor } from "../core/actor.js";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.js";
import { exportIssue } from "../core/export/formats.js";
import { scorePair } from "../core/generation/pair-quality.js";
import type { PairMessage, PairMode } from "../core/generation/types.js";
import { idRange, isUuid } from "../core/ids.js";
import { countChatTokens } from "../core/tokens.js";
import type {
  DatasetRow,
  DatasetsRepository,
  EditedPair,
  PairFilter,
  PairRow,
} from "../db/repositories/datasets-repository.js";
import { parseInput } from "./parse-input.js";

const messagesSchema = z.object({
  messages: z
    .array(
      z.object({
        role: z.enum(["system", "user", "assistant"]),
        content: z.string().max(200_000, "must be at most 200,000 characters"),
      }),
    )
    .min(2, "must hold at least a user and an assistant message")
    .max(41, "must hold at most 20 exchanges"),
});

/** An edit may say when the pair it changes was loaded: one changed since (in another tab) is not overwritten. */
const editSchema = z.object({ expectedUpdatedAt: z.iso.datetime({ offset: true }).optional() });

const systemPromptSchema = z.object({
  systemPrompt: z.string().trim().max(10_000, "must be at most 10,000 characters").nullable(),
});

/**
 * Review and edit (seed Step 4): what a person changes by hand. Every edit recomputes the pair's token
 * count and quality and keeps its provenance; nothing changes while a training job uses the dataset.
 */
export class PairService {
  constructor(private readonly datasets: DatasetsRepository) {}

  private async editable(actor: Actor, datasetId: string): Promise<DatasetRow> {
    const dataset = await this.datasets.findById(actor, datasetId);
    if (!dataset) throw new NotFoundError("Dataset", datasetId);
    refuseWhileBusy(dataset.name, dataset.status);
    return dataset;
  }

  /**
   * The pair an id names, whole or shortened as validation's messages print it (`a1b2c3d4…`), if any; in
   * one dataset when given, where a short id may name one pair though it begins ids in others too.
   */
  private async lookup(actor: Actor, pairId: string, datasetId?: string) {
    const range = idRange(pairId);
    const [found, another] = range ? await this.datasets.findPairs(actor, range, datasetId) : [];
    if (another) {
      throw ValidationError.forField(
        "id",
        `"${pairId}" begins the ids of several of your pairs: give more of its digits`,
      );
    }
    return found;
  }

  private async found(actor: Actor, pairId: string) {
    const found = await this.lookup(actor, pairId);
    if (!found) throw new NotFoundError("Pair", pairId);
    return found;
  }

  private async editablePair(actor: Actor, pairId: string) {
    const found = await this.found(actor, pairId);
    refuseWhileBusy("of this pair", found.datasetStatus);
    return found;
  }

  async list(actor: Actor, datasetId: string, filter: PairFilter) {
    const dataset = await this.datasets.findById(actor, datasetId);
    if (!dataset) throw new NotFoundError("Dataset", datasetId);
    return this.datasets.listPairs(actor, dataset.id, filter);
  }

  async get(actor: Actor, pairId: string): Promise<PairRow> {
    return (await this.found(actor, pairId)).pair;
  }

  async add(actor: Actor, datasetId: string, body: unknown): Promise<PairRow> {
    const dataset = await this.editable(actor, datasetId);
    const messages = checkedMessages(body);
    // A hand-written pair is its own source: its author vouches for its facts.
    return this.datasets.insertPair(actor, dataset.id, computed(messages, answersOf(messages)));
  }

  async edit(actor: Actor, pairId: string, body: unknown): Promise<PairRow> {
    const { pair, sourceText } = await this.editablePair(actor, pairId);
    const messages = checkedMessages(body);
    const { expectedUpdatedAt } = parseInput(editSchema, body);
    const updated = await this.datasets.updatePair(
      actor,
      pair.id,
      computed(messages, sourceText ?? answersOf(messages), pair.qualityBreakdown?.diversity, pair.mode),
      expectedUpdatedAt === undefined ? undefined : new Date(expectedUpdatedAt),
    );
    if (updated) return updated;
    if (expectedUpdatedAt !== undefined && (await this.lookup(actor, pair.id))) {
      throw new ConflictError(
        "This pair was changed elsewhere after you opened it; nothing was saved. Reload it to see the change, then edit again.",
      );
    }
    throw new NotFoundError("Pair", pairId);
  }

  /** Takes a pair the safety filter held back into the dataset; the reviewer has vouched for it. */
  async restore(actor: Actor, pairId: string): Promise<PairRow> {
    const { pair } = await this.editablePair(actor, pairId);
    if (pair.status !== "rejected") throw new ConflictError("This pair was not rejected.");
    const updated = await this.datasets.updatePair(actor, pair.id, {
      status: "accepted",
      rejectionReason: null,
    });
    if (!updated) throw new NotFoundError("Pair", pairId);
    return updated;
  }

  /** Deletes the dataset's pairs of these ids, whole or shortened; an id of no pair of it is passed over. */
  async delete(actor: Actor, datasetId: string, ids: string[]): Promise<number> {
    const dataset = await this.editable(actor, datasetId);
    const whole = await Promise.all(
      ids.map(async (id) => (isUuid(id) ? id : ((await this.lookup(actor, id, dataset.id))?.pair.id ?? id))),
    );
    return this.datasets.deletePairs(actor, dataset.id, whole);
  }

  async setSystemPrompt(actor: Actor, datasetId: string, body: unknown): Promise<DatasetRow> {
    const dataset = await this.editable(actor, datasetId);
    const { systemPrompt } = parseInput(systemPromptSchema, body);
    const updated = await this.datasets.setSystemPrompt(actor, dataset.id, systemPrompt || null);
    if (!updated) throw new NotFoundError("Dataset", datasetId);
    return updated;
  }
}

function refuseWhileBusy(name: string, status: DatasetRow["status"]) {
  if (status === "training") {
    throw new ConflictError(
      `The dataset ${name} is being used by a training job; edit it after the job ends (or cancel the job).`,
    );
  }
  if (status === "generating") {
    throw new ConflictError(`The dataset ${name} is still generating; edit it when it is ready.`);
  }
}

/** Messages as given, checked with the same rules export applies, so an edited pair always exports. */
function checkedMessages(body: unknown): PairMessage[] {
  const { messages } = parseInput(messagesSchema, body);
  const issue = exportIssue("openai", messages);
  if (issue) throw ValidationError.forField(issue.field, issue.message);
  return messages;
}

function answersOf(messages: readonly PairMessage[]): string {
  return messages
    .filter((m) => m.role === "assistant")
    .map((m) => m.content)
    .join("\n");
}

/** Token count and quality from the messages; an edit keeps the pair's kind unless its turns change it. */
function computed(
  messages: PairMessage[],
  sourceText: string,
  diversity = 1,
  previous?: PairMode | null,
): EditedPair {
  const exchanges = messages.filter((m) => m.role === "user").length;
  const mode: PairMode =
    exchanges > 1 ? "conversation" : previous && previous !== "conversation" ? previous : "qa";
  const quality = scorePair({ mode, messages }, sourceText, diversity);
  return {
    messages,
    mode,
    tokenCount: countChatTokens(messages),
    qualityScore: quality.score,
    qualityBreakdown: { ...quality.breakdown },
  };
}
