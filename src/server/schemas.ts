import { z } from "@hono/zod-openapi";
import {
  BUDGET_ENFORCEMENTS,
  DATASET_FORMATS,
  DATASET_STATUSES,
  DOCUMENT_STATUSES,
  GENERATION_MODES,
  PAIR_STATUSES,
} from "../core/statuses.js";

/** Response shapes for the OpenAPI document. Request shapes come from `core/inputs.ts`. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi("Error");

export const UserSchema = z
  .object({ id: z.uuid(), email: z.string(), isLocalOwner: z.boolean(), createdAt: z.iso.datetime() })
  .openapi("User");

export const ApiTokenSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
  })
  .openapi("ApiToken");

export const ProjectSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    monthlyBudgetUsd: z.number().nullable(),
    budgetEnforcement: z.enum(BUDGET_ENFORCEMENTS),
    chunkTargetTokens: z.number().int(),
    chunkOverlapTokens: z.number().int(),
    duplicateThreshold: z.number(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Project");

export const IdParams = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

/** The error answers most routes can give, for the OpenAPI document. */
export const errorResponses = {
  400: json(ErrorSchema, "Bad input; `details.issues` names each field"),
  401: json(ErrorSchema, "No valid session or API token"),
  404: json(ErrorSchema, "Not found, or not yours"),
};

/** A required JSON request body. */
const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

export { json, jsonBody };

export const DocumentSchema = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    name: z.string(),
    type: z.string(),
    sizeBytes: z.number().int(),
    contentHash: z.string(),
    status: z.enum(DOCUMENT_STATUSES),
    error: z.string().nullable(),
    chunkCount: z.number().int(),
    duplicateChunks: z.number().int(),
    flaggedChunks: z.number().int(),
    /** The project's chunking when the document was sent, which it is processed with. */
    chunkTargetTokens: z.number().int(),
    chunkOverlapTokens: z.number().int(),
    duplicateThreshold: z.number(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Document");

export const IngestResultSchema = z
  .object({
    name: z.string(),
    documentId: z.uuid(),
    outcome: z.enum(["queued", "unchanged", "failed"]),
    status: z.enum(DOCUMENT_STATUSES),
    error: z.string().nullable(),
  })
  .openapi("IngestResult");

export const ChunkSchema = z
  .object({
    id: z.uuid(),
    documentId: z.uuid(),
    chunkIndex: z.number().int(),
    text: z.string(),
    headingPath: z.array(z.string()),
    tokenCount: z.number().int(),
    pageStart: z.number().int().nullable(),
    pageEnd: z.number().int().nullable(),
    qualityScore: z.number(),
    qualityBreakdown: z.record(z.string(), z.number()),
    isDuplicate: z.boolean(),
    duplicateOf: z.uuid().nullable(),
    /** Where the original is: its document and 0-based place in it. */
    duplicateOfChunk: z.object({ documentId: z.uuid(), chunkIndex: z.number().int() }).nullable(),
    duplicateSimilarity: z.number().nullable(),
    injection: z.object({
      flagged: z.boolean(),
      score: z.number(),
      reasons: z.array(z.object({ rule: z.string(), excerpt: z.string() })),
    }),
  })
  .openapi("Chunk");

export const ProgressSchema = z
  .object({
    totalChunks: z.number().int(),
    pending: z.number().int(),
    done: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    pairs: z.number().int(),
    rejectedPairs: z.number().int(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
  })
  .openapi("GenerationProgress");

export const DatasetSchema = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    name: z.string(),
    format: z.enum(DATASET_FORMATS),
    mode: z.enum(GENERATION_MODES),
    systemPrompt: z.string().nullable(),
    status: z.enum(DATASET_STATUSES),
    generationOptions: z.record(z.string(), z.unknown()),
    error: z.string().nullable(),
    progress: ProgressSchema.optional(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Dataset");

export const PairSchema = z
  .object({
    id: z.uuid(),
    updatedAt: z.iso.datetime(),
    messages: z.array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() })),
    mode: z.enum(["qa", "instruction", "conversation"]).nullable(),
    status: z.enum(PAIR_STATUSES),
    rejectionReason: z.string().nullable(),
    qualityScore: z.number().nullable(),
    qualityBreakdown: z.record(z.string(), z.number()).nullable(),
    tokenCount: z.number().int().nullable(),
    isValid: z.boolean(),
    sourceChunkId: z.uuid().nullable(),
    sourceDocumentId: z.uuid().nullable(),
    generator: z.string().nullable(),
    model: z.string().nullable(),
    promptVersion: z.string().nullable(),
  })
  .openapi("TrainingPair");

export const ValidationResultSchema = z
  .object({
    valid: z.boolean(),
    errors: z.array(z.string()),
    warnings: z.array(z.string()),
    issues: z.array(
      z.object({
        code: z.string(),
        severity: z.enum(["error", "warning"]),
        message: z.string(),
        pairIds: z.array(z.string()),
        lines: z.array(z.number().int()),
      }),
    ),
    stats: z.object({
      totalPairs: z.number().int(),
      avgTokensPerPair: z.number(),
      avgQualityScore: z.number().nullable().openapi({ description: "Null when no pair has a score" }),
      uniqueQuestions: z.number().int(),
      tokens: z.object({ min: z.number(), p50: z.number(), p95: z.number(), max: z.number() }),
      billableTokens: z.number().int(),
      recommendedEpochs: z.number().int(),
      model: z.string(),
      encoding: z.string(),
    }),
  })
  .openapi("ValidationResult");
