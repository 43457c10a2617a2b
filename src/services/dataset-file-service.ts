import type { Actor } from "../core/actor.js";
import { ConflictError, type FieldIssue, NotFoundError, ValidationError } from "../core/errors.js";
import { type ExportFormat, exportIssue, toJsonlLine, toRecord } from "../core/export/formats.js";
import { ImportLineError, parseJsonlLine } from "../core/export/import-records.js";
import { checkSplitFraction, type SplitPart, splitTrainValidation } from "../core/export/split.js";
import type { PairMessage, PairMode } from "../core/generation/types.js";
import { countChatTokens } from "../core/tokens.js";
import {
  DatasetValidator,
  type ValidationPair,
  type ValidationResult,
} from "../core/validation/validate-dataset.js";
import type { DatasetRow, DatasetsRepository } from "../db/repositories/datasets-repository.js";
import type { ProjectService } from "./project-service.js";

export interface ValidateOptions {
  model?: string;
  hardTokenLimit?: number;
}

export interface ExportOptions extends ValidateOptions {
  format: ExportFormat;
  /** Apply the dataset's system prompt (default true). */
  includeSystemPrompt?: boolean;
  /** Leave out pairs that validation finds errors in (default true). */
  onlyValid?: boolean;
  /** A seeded train/validation split, and which side to write. */
  split?: { fraction: number; seed: number; part: SplitPart };
}

/**
 * Validation and export of a dataset's accepted pairs (seed Steps 5–6). Both stream the pairs, and both
 * see each pair exactly as the OpenAI file holds it, system prompt included, so their token counts agree.
 */
export class DatasetFileService {
  constructor(
    private readonly datasets: DatasetsRepository,
    private readonly projects: ProjectService,
  ) {}

  private async dataset(actor: Actor, datasetId: string): Promise<DatasetRow> {
    const dataset = await this.datasets.findById(actor, datasetId);
    if (!dataset) throw new NotFoundError("Dataset", datasetId);
    if (dataset.status === "generating") {
      throw new ConflictError(
        `Dataset "${dataset.name}" is still generating; validate or export it when it is ready.`,
      );
    }
    return dataset;
  }

  async validate(actor: Actor, datasetId: string, options: ValidateOptions = {}): Promise<ValidationResult> {
    const dataset = await this.dataset(actor, datasetId);
    const validator = await this.validator(dataset, options);
    let line = 0;
    for await (const pair of this.datasets.acceptedPairs(actor, dataset.id)) {
      validator.add(validationPair(pair, ++line, dataset));
    }
    const result = validator.result();
    const invalid = new Set(result.issues.filter((i) => i.severity === "error").flatMap((i) => i.pairIds));
    await this.datasets.markValidity(dataset.id, invalid);
    return result;
  }

  /**
   * The file name and its lines, produced lazily: the caller streams them. Invalid pairs are found in the
   * same pass that writes the others (see `DatasetValidator.add`); a split needs one pass more, to know
   * every pair that goes in before it divides them.
   */
  async export(actor: Actor, datasetId: string, options: ExportOptions) {
    const dataset = await this.dataset(actor, datasetId);
    if (options.split) checkSplitFraction(options.split.fraction);
    const systemPrompt =
      options.includeSystemPrompt === false ? undefined : (dataset.systemPrompt ?? undefined);
    const line = (pair: { messages: PairMessage[] }) =>
      `${toJsonlLine(options.format, pair.messages, systemPrompt)}\n`;
    const validator = options.onlyValid === false ? undefined : await this.validator(dataset, options);
    const exportable = exportFilter(dataset, options.format, systemPrompt, validator);
    const pairs = () => this.datasets.acceptedPairs(actor, dataset.id);
    const { split } = options;
    if (!split) {
      const lines = async function* () {
        for await (const pair of pairs()) if (exportable(pair)) yield line(pair);
      };
      return { dataset, lines: lines() };
    }
    // Decided over all the ids at once (ids only, not texts) so that neither file is ever empty: a
    // provider refuses an empty validation file. A pair added since is in neither part.
    const kept: string[] = [];
    for await (const pair of pairs()) if (exportable(pair)) kept.push(pair.id);
    const parts = splitTrainValidation(kept, split.fraction, split.seed);
    const part = new Set(parts[split.part]);
    const lines = async function* () {
      for await (const pair of pairs()) if (part.has(pair.id)) yield line(pair);
    };
    return { dataset, lines: lines() };
  }

  /** Sized for the dataset's pairs, so its memory is set aside once rather than grown. */
  private async validator(dataset: DatasetRow, options: ValidateOptions): Promise<DatasetValidator> {
    return new DatasetValidator({
      ...options,
      expectedPairs: await this.datasets.acceptedPairCount(dataset.id),
    });
  }

  /**
   * Loads a JSONL file in any export format into a new, ready dataset, so FineFlow can validate and convert
   * datasets made elsewhere. Every line is checked first; one bad line and nothing is stored.
   */
  async import(actor: Actor, projectId: string, input: ImportInput): Promise<DatasetRow> {
    const project = await this.projects.get(actor, projectId);
    const name = input.datasetName.trim();
    if (!name) throw ValidationError.forField("datasetName", "must not be empty");
    if (input.fileName.includes("\0")) {
      throw ValidationError.forField("file", "its name must not contain a NUL character (U+0000)");
    }
    const pairs: { messages: PairMessage[]; mode: PairMode; tokenCount: number }[] = [];
    const issues: FieldIssue[] = [];
    let format: ExportFormat | undefined;
    input.text.split(/\r?\n/).forEach((text, index) => {
      if (issues.length >= MAX_REPORTED_LINES) return;
      try {
        const record = parseJsonlLine(input.format, text, index + 1);
        if (!record) return;
        format ??= record.format;
        const messages: PairMessage[] = record.systemPrompt
          ? [{ role: "system", content: record.systemPrompt }, ...record.messages]
          : record.messages;
        // The database's text cannot hold it (see `validationHook`); JSON writes it as \u0000.
        if (messages.some((m) => m.content.includes("\0"))) {
          const line = `line ${index + 1}`;
          issues.push({ field: line, message: `${line}: a message holds a NUL character (U+0000)` });
          return;
        }
        const exchanges = record.messages.filter((m) => m.role === "user").length;
        pairs.push({
          messages,
          mode: exchanges > 1 ? "conversation" : "qa",
          tokenCount: countChatTokens(messages),
        });
      } catch (error) {
        if (!(error instanceof ImportLineError)) throw error;
        issues.push({ field: `line ${error.line}`, message: error.message });
      }
    });
    if (issues.length > 0) {
      throw new ValidationError(
        `The file has lines FineFlow cannot read; nothing was imported. ${issues[0]?.message}`,
        issues,
      );
    }
    if (!format || pairs.length === 0) throw ValidationError.forField("file", "holds no examples");
    const dataset = await this.datasets.createImported(
      actor,
      project.id,
      { name, format, fileName: input.fileName },
      pairs,
    );
    if (!dataset) throw new ConflictError(`Dataset "${name}" already exists in project "${project.name}".`);
    return dataset;
  }
}

export interface ImportInput {
  datasetName: string;
  format: ExportFormat | "auto";
  fileName: string;
  text: string;
}

/** Import stops at this many bad lines: enough to fix a file in one go, short enough to read. */
const MAX_REPORTED_LINES = 20;

/**
 * Whether each pair, taken in file order, goes in the file: not when the validator (absent: every pair is
 * wanted) finds an error in it, nor when the format cannot express it (e.g. anthropic's turn markers in its
 * text). It validates as it goes, so each pair is passed once, in order.
 */
function exportFilter(
  dataset: DatasetRow,
  format: ExportFormat,
  systemPrompt: string | undefined,
  validator: DatasetValidator | undefined,
) {
  let line = 0;
  return (pair: StoredPair) => {
    const valid = validator?.add(validationPair(pair, ++line, dataset)) ?? true;
    return valid && !exportIssue(format, pair.messages, systemPrompt);
  };
}

interface StoredPair {
  id: string;
  messages: PairMessage[];
  qualityScore: number | null;
}

/** A pair as the OpenAI file holds it, system prompt included: what validation checks and counts. */
function validationPair(pair: StoredPair, line: number, dataset: DatasetRow): ValidationPair {
  return {
    id: pair.id,
    line,
    messages: openaiMessages(pair.messages, dataset.systemPrompt ?? undefined),
    qualityScore: pair.qualityScore,
  };
}

function openaiMessages(messages: PairMessage[], systemPrompt: string | undefined): unknown {
  try {
    return toRecord("openai", messages, systemPrompt).messages;
  } catch {
    return messages; // the validator then names what is wrong with them
  }
}
