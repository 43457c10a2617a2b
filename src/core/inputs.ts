import { z } from "zod";
import { DEFAULT_CHUNK_OPTIONS } from "./chunk-blocks.js";
import { DEFAULT_NEAR_DUPLICATE_THRESHOLD } from "./near-duplicates.js";
import { RANGES } from "./ranges.js";
import { BUDGET_ENFORCEMENTS, DATASET_FORMATS, GENERATION_MODES } from "./statuses.js";

/**
 * The shapes of what users send, checked the same way whether it comes over HTTP or the CLI. Messages
 * say what was expected; the transports add the field name.
 */
export const emailSchema = z
  .email({ error: "must be an email address" })
  .transform((email) => email.toLowerCase());

export const passwordSchema = z.string().min(8, "must be at least 8 characters").max(1024);

export const newUserSchema = z.object({ email: emailSchema, password: passwordSchema });

export const loginSchema = z.object({ email: emailSchema, password: z.string().max(1024) });

export const createTokenSchema = z.object({ name: z.string().trim().min(1, "must not be empty").max(100) });

export const projectNameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters");

/** A whole number of `what` in `range`, each way of missing it told in the same words. */
function wholeNumberIn({ min, max }: { min: number; max: number }, what: string) {
  return z
    .number()
    .int(`must be a whole number of ${what}`)
    .min(min, `must be from ${min} to ${max}`)
    .max(max, `must be from ${min} to ${max}`);
}

export const budgetSchema = z
  .number({ error: "must be a number of US dollars" })
  .min(0, "must not be negative")
  .max(1_000_000_000, "must be at most 1,000,000,000")
  .nullable();

const chunkTargetTokensSchema = z
  .number()
  .int("must be a whole number of tokens")
  .min(RANGES.chunkTargetTokens.min, `must be at least ${RANGES.chunkTargetTokens.min} tokens`)
  .max(RANGES.chunkTargetTokens.max, `must be at most ${RANGES.chunkTargetTokens.max} tokens`);
const chunkOverlapTokensSchema = z
  .number()
  .int("must be a whole number of tokens")
  .min(0, "must not be negative");
const { min: jaccardMin, max: jaccardMax } = RANGES.duplicateThreshold;
const duplicateThresholdSchema = z
  .number()
  .min(jaccardMin, `must be a Jaccard similarity from ${jaccardMin} to ${jaccardMax}`)
  .max(jaccardMax, `must be a Jaccard similarity from ${jaccardMin} to ${jaccardMax}`);

/**
 * The overlap a new project gets when none is given: the same share of its target as the defaults have
 * (50 of 512). A fixed 50 refused every target from 32 to 100 given alone, for an overlap the user never set.
 */
const defaultOverlapFor = (chunkTargetTokens: number) =>
  Math.round((chunkTargetTokens * DEFAULT_CHUNK_OPTIONS.overlapTokens) / DEFAULT_CHUNK_OPTIONS.targetTokens);

/** The chunker repeats at most half a chunk, or consecutive chunks would be mostly the same text. */
export function overlapIssue(settings: { chunkTargetTokens: number; chunkOverlapTokens: number }) {
  return settings.chunkOverlapTokens >= settings.chunkTargetTokens / 2
    ? `must be less than half of chunkTargetTokens (${settings.chunkTargetTokens})`
    : undefined;
}

/**
 * The same rule, said of the target when only the target changes: the overlap is one the user did not type,
 * so the message names it and what to do.
 */
export function targetIssue(settings: { chunkTargetTokens: number; chunkOverlapTokens: number }) {
  return overlapIssue(settings)
    ? `must be more than twice chunkOverlapTokens (${settings.chunkOverlapTokens}); lower chunkOverlapTokens too`
    : undefined;
}

export const createProjectSchema = z
  .object({
    name: projectNameSchema,
    description: z.string().max(2000).default(""),
    monthlyBudgetUsd: budgetSchema.default(null),
    budgetEnforcement: z.enum(BUDGET_ENFORCEMENTS).default("warn"),
    chunkTargetTokens: chunkTargetTokensSchema.default(DEFAULT_CHUNK_OPTIONS.targetTokens),
    chunkOverlapTokens: chunkOverlapTokensSchema.optional(),
    duplicateThreshold: duplicateThresholdSchema.default(DEFAULT_NEAR_DUPLICATE_THRESHOLD),
  })
  .transform(({ chunkOverlapTokens, ...project }) => ({
    ...project,
    chunkOverlapTokens: chunkOverlapTokens ?? defaultOverlapFor(project.chunkTargetTokens),
  }))
  .superRefine((project, ctx) => {
    const message = overlapIssue(project);
    if (message) ctx.addIssue({ code: "custom", path: ["chunkOverlapTokens"], message });
  });
export type CreateProjectInput = z.input<typeof createProjectSchema>;

/** Chunking settings apply to documents processed after the change. */
export const updateProjectSchema = z
  .object({
    name: projectNameSchema,
    description: z.string().max(2000),
    monthlyBudgetUsd: budgetSchema,
    budgetEnforcement: z.enum(BUDGET_ENFORCEMENTS),
    chunkTargetTokens: chunkTargetTokensSchema,
    chunkOverlapTokens: chunkOverlapTokensSchema,
    duplicateThreshold: duplicateThresholdSchema,
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "must change at least one field");
export type UpdateProjectInput = z.input<typeof updateProjectSchema>;

export const GENERATORS = ["llm", "extractive"] as const;

/** The seed's `GenerateDatasetInput` (its projectId is the route's), plus FineFlow's options. */
export const generateDatasetSchema = z.object({
  datasetName: z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
  format: z.enum(DATASET_FORMATS).default("openai"),
  mode: z.enum(GENERATION_MODES).default("auto"),
  systemPrompt: z.string().trim().max(10_000, "must be at most 10,000 characters").optional(),
  documentIds: z.array(z.string()).min(1, "must name at least one document when given").optional(),
  minQuality: z.number().min(0, "must be from 0 to 1").max(1, "must be from 0 to 1").optional(),
  pairsPerChunk: wholeNumberIn(RANGES.pairsPerChunk, "pairs").default(3),
  /** Defaults to `llm` when an endpoint is configured, else `extractive`. */
  generator: z.enum(GENERATORS).optional(),
  /** Chunks flagged for prompt injection are skipped unless the user opts in. */
  includeFlagged: z.boolean().default(false),
});
export type GenerateDatasetInput = z.output<typeof generateDatasetSchema>;

/** What a cost preview needs: the seed's Cost Preview modal, for one dataset, provider and base model. */
export const estimateTrainingSchema = z.object({
  datasetId: z.string().min(1, "must name a dataset"),
  provider: z.enum(["openai", "together"], { error: "must be openai or together" }),
  model: z.string().trim().min(1, "must name a base model").max(200),
  /** Undefined: as OpenAI's `auto` picks them. */
  epochs: wholeNumberIn(RANGES.epochs, "epochs").optional(),
  /** Share of pairs held out as the validation file (not billed). */
  validationSplit: z
    .number()
    .min(
      RANGES.validationSplit.min,
      `must be from ${RANGES.validationSplit.min} to ${RANGES.validationSplit.max}`,
    )
    .max(
      RANGES.validationSplit.max,
      `must be from ${RANGES.validationSplit.min} to ${RANGES.validationSplit.max}`,
    )
    .optional(),
});
export type EstimateTrainingInput = z.output<typeof estimateTrainingSchema>;

/** The seed's start-training request; the key comes from the user's key store, never from the request. */
export const startTrainingSchema = estimateTrainingSchema.extend({
  batchSize: wholeNumberIn(RANGES.batchSize, "examples").optional(),
  learningRateMultiplier: z.number().positive("must be positive").max(10, "must be at most 10").optional(),
  learningRate: z.number().positive("must be positive").max(1, "must be at most 1").optional(),
  suffix: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,40}$/, "must be 1 to 40 letters, digits, - or _")
    .optional(),
  /** Confirms starting over a `warn` budget (the CLI's `--yes`). */
  confirmOverBudget: z.boolean().default(false),
});
export type StartTrainingInput = z.input<typeof startTrainingSchema>;
