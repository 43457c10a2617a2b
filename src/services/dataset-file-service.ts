import type { Actor } from "../core/actor.js";
import { ConflictError, type FieldIssue, NotFoundError, ValidationError } from "../core/errors.js";
import { type ExportFormat, exportIssue, toJsonlLine, toRecord } from "../core/export/formats.js";
import { ImportLineError, parseJsonlLine } from "../core/export/import-records.js";
import { checkSplitFraction, type SplitPart, splitTrainValidation } from "../core/export/split.js";
import type { PairMessage, PairMode } from "../core/generation/types.js";
import { countChatTokens } from "../core/tokens.js";
import { DatasetValidator, type ValidationResult } from "../core/validation/validate-dataset.js";
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
    const result = await this.run(actor, dataset, options);
    const invalid = new Set(result.issues.filter((i) => i.severity === "error").flatMap((i) => i.pairIds));
    await this.datasets.markValidity(dataset.id, invalid);
    return result;
  }

  private async run(actor: Actor, dataset: DatasetRow, options: ValidateOptions): Promise<ValidationResult> {
    const validator = new DatasetValidator(options);
    let line = 0;
    for await (const pair of this.datasets.acceptedPairs(actor, dataset.id)) {
      validator.add({
        id: pair.id,
        line: ++line,
        messages: openaiMessages(pair.messages, dataset.systemPrompt ?? undefined),
        qualityScore: pair.qualityScore,
      });
    }
    return validator.result();
  }

  /** The file name and its lines, produced lazily: the caller streams them. */
  async export(actor: Actor, datasetId: string, options: ExportOptions) {
    const dataset = await this.dataset(actor, datasetId);
    if (options.split) checkSplitFraction(options.split.fraction);
    const excluded =
      options.onlyValid === false
        ? new Set<string>()
        : new Set(
            (await this.run(actor, dataset, options)).issues
              .filter((i) => i.severity === "error")
              .flatMap((i) => i.pairIds),
          );
    const systemPrompt =
      options.includeSystemPrompt === false ? undefined : (dataset.systemPrompt ?? undefined);
    // A pair the format cannot express (e.g. anthropic's turn markers in its text) is left out.
    const exportable = (pair: { id: string; messages: PairMessage[] }) =>
      !excluded.has(pair.id) && !exportIssue(options.format, pair.messages, systemPrompt);
    const side = options.split && (await this.splitSides(actor, dataset.id, options.split, exportable));
    const datasets = this.datasets;
    async function* lines(): AsyncGenerator<string> {
      for await (const pair of datasets.acceptedPairs(actor, dataset.id)) {
        if (!exportable(pair) || (side && side(pair.id) !== options.split?.part)) continue;
        yield `${toJsonlLine(options.format, pair.messages, systemPrompt)}\n`;
      }
    }
    return { dataset, lines: lines() };
  }

  /**
   * Which side of the split each pair is on. Decided over all the ids at once (ids only, not texts) so
   * that neither file is ever empty: a provider refuses an empty validation file.
   */
  private async splitSides(
    actor: Actor,
    datasetId: string,
    split: { fraction: number; seed: number },
    exportable: (pair: { id: string; messages: PairMessage[] }) => boolean,
  ) {
    const ids: string[] = [];
    for await (const pair of this.datasets.acceptedPairs(actor, datasetId)) {
      if (exportable(pair)) ids.push(pair.id);
    }
    const validation = new Set(splitTrainValidation(ids, split.fraction, split.seed).validation);
    return (id: string): SplitPart => (validation.has(id) ? "validation" : "train");
  }

  /**
   * Loads a JSONL file in any export format into a new, ready dataset, so FineFlow can validate and convert
   * datasets made elsewhere. Every line is checked first; one bad line and nothing is stored.
   */
  async import(actor: Actor, projectId: string, input: ImportInput): Promise<DatasetRow> {
    const project = await this.projects.get(actor, projectId);
    const name = input.datasetName.trim();
    if (!name) throw ValidationError.forField("datasetName", "must not be empty");
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

/** A pair as the OpenAI file holds it: what validation checks and counts. */
function openaiMessages(messages: PairMessage[], systemPrompt: string | undefined): unknown {
  try {
    return toRecord("openai", messages, systemPrompt).messages;
  } catch {
    return messages; // the validator then names what is wrong with them
  }
}
