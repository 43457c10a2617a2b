import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { estimateTrainingSchema, startTrainingSchema } from "../../core/inputs.js";
import { PROVIDERS, TRAINING_JOB_STATUSES } from "../../core/statuses.js";
import type { TrainingJobView, TrainingService } from "../../services/training-service.js";
import type { TrainingUpdates } from "../../services/training-updates.js";
import type { AppEnv } from "../env.js";
import { ErrorSchema, errorResponses, IdParams, json, jsonBody } from "../schemas.js";

const iso = (date: Date | null) => date?.toISOString() ?? null;

export const toJobDto = ({ userId: _owner, ...job }: TrainingJobView) => ({
  ...job,
  createdAt: job.createdAt.toISOString(),
  updatedAt: job.updatedAt.toISOString(),
  finishedAt: iso(job.finishedAt),
  trackingStartedAt: iso(job.trackingStartedAt),
  trackingPausedAt: iso(job.trackingPausedAt),
});

const TrainingJobSchema = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    datasetId: z.uuid(),
    provider: z.enum(PROVIDERS),
    baseModel: z.string(),
    status: z.enum(TRAINING_JOB_STATUSES),
    providerStatus: z.string().nullable(),
    hyperparameters: z.record(z.string(), z.unknown()),
    validationSplit: z.number().nullable(),
    suffix: z.string().nullable(),
    providerFileId: z.string().nullable(),
    providerValidationFileId: z.string().nullable(),
    providerJobId: z.string().nullable(),
    fineTunedModel: z.string().nullable(),
    progressPercent: z.number(),
    currentStep: z.string().nullable(),
    trainedTokens: z.number().nullable(),
    estimatedCostUsd: z.number().nullable(),
    actualCostUsd: z.number().nullable(),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    checkpoints: z.array(z.record(z.string(), z.unknown())),
    trackingPaused: z.boolean(),
    trackingStartedAt: z.iso.datetime().nullable(),
    trackingPausedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("TrainingJob");

const BudgetVerdictSchema = z.object({
  decision: z.enum(["allowed", "confirm", "blocked"]),
  projectedUsd: z.number().optional(),
  reason: z.string().optional(),
});

const CostPreviewSchema = z
  .object({
    datasetId: z.uuid(),
    provider: z.enum(["openai", "together"]),
    model: z.string(),
    trainingExamples: z.number(),
    validationExamples: z.number(),
    billableTokens: z.number().openapi({ description: "One epoch's billable tokens of the training file" }),
    validationTokens: z
      .number()
      .openapi({ description: "One pass over the validation file (0 without one)" }),
    epochs: z.number(),
    billedEvaluations: z.number().openapi({
      description: "Billed passes over the validation file (Together's evaluations; OpenAI bills none)",
    }),
    epochsSource: z.enum(["auto", "requested"]),
    pricePerMillionUsd: z.number().nullable(),
    priceSource: z.enum(["price table", "unknown"]),
    estimatedCostUsd: z.number().nullable().openapi({ description: "null when the price is unknown" }),
    spentThisMonthUsd: z.number(),
    monthlyBudgetUsd: z.number().nullable(),
    budgetEnforcement: z.enum(["warn", "block"]),
    projectedTotalUsd: z.number().nullable(),
    budget: BudgetVerdictSchema,
    validation: z.object({ valid: z.boolean(), errors: z.array(z.string()) }),
    warnings: z.array(z.string()).openapi({ description: "What to know before choosing this provider" }),
  })
  .openapi("CostPreview");

const MetricsSchema = z.object({
  step: z.number(),
  trainLoss: z.number().optional(),
  validLoss: z.number().optional(),
  trainAccuracy: z.number().optional(),
  validAccuracy: z.number().optional(),
});

const EventSchema = z.object({
  id: z.string(),
  occurredAt: z.iso.datetime(),
  level: z.string(),
  type: z.string(),
  message: z.string(),
  step: z.number().nullable(),
  trainLoss: z.number().nullable(),
  validLoss: z.number().nullable(),
  trainAccuracy: z.number().nullable(),
  validAccuracy: z.number().nullable(),
});

const JobsQuery = z.object({ projectId: z.string().optional(), datasetId: z.string().optional() });

export function trainingRoutes(
  app: OpenAPIHono<AppEnv>,
  training: TrainingService,
  updates: TrainingUpdates,
) {
  // First, so that `/api/training-jobs/stream` is not taken for a job id.
  streamRoutes(app, training, updates);
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/training/estimate",
      summary: "Cost preview: estimate, the month's spend, the budget and the projected total",
      request: { body: jsonBody(estimateTrainingSchema) },
      responses: { 200: json(CostPreviewSchema, "The preview"), ...errorResponses },
    }),
    async (c) => c.json(await training.estimate(c.get("actor"), c.req.valid("json")), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/training-jobs",
      summary: "Start a fine-tuning job; it runs in the background",
      request: { body: jsonBody(startTrainingSchema) },
      responses: {
        202: json(TrainingJobSchema, "Started; follow it with GET /api/training-jobs/{id}/stream"),
        ...errorResponses,
        409: json(
          ErrorSchema,
          "Dataset not ready or invalid, or the budget: `budget_exceeded` (block) or `confirmation_required` (warn; send confirmOverBudget)",
        ),
        502: json(ErrorSchema, "The provider refused"),
      },
    }),
    async (c) => c.json(toJobDto(await training.start(c.get("actor"), c.req.valid("json"))), 202),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/training-jobs",
      summary: "Your training jobs, newest first",
      request: { query: JobsQuery },
      responses: { 200: json(z.object({ jobs: z.array(TrainingJobSchema) }), "The jobs"), ...errorResponses },
    }),
    async (c) => {
      const jobs = await training.list(c.get("actor"), c.req.valid("query"));
      return c.json({ jobs: jobs.map(toJobDto) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/training-jobs/{id}",
      summary: "One training job",
      request: { params: IdParams },
      responses: { 200: json(TrainingJobSchema, "The job"), ...errorResponses },
    }),
    async (c) => c.json(toJobDto(await training.get(c.get("actor"), c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/training-jobs/{id}/events",
      summary: "The provider's events and the loss curve (one point per step)",
      request: { params: IdParams },
      responses: {
        200: json(
          z.object({ events: z.array(EventSchema), metrics: z.array(MetricsSchema) }),
          "Events and curve",
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const actor = c.get("actor");
      const { id } = c.req.valid("param");
      const events = await training.events(actor, id);
      return c.json(
        {
          events: events.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString() })),
          metrics: await training.metrics(actor, id),
        },
        200,
      );
    },
  );

  for (const [action, summary] of [
    ["cancel", "Cancel: pending, uploading, validating, queued or training jobs; the provider's job too"],
    ["resume", "Resume tracking a job whose tracking paused"],
  ] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/api/training-jobs/{id}/${action}`,
        summary,
        request: { params: IdParams },
        responses: {
          200: json(TrainingJobSchema, "The job"),
          ...errorResponses,
          409: json(ErrorSchema, "Not in a state that allows it"),
          502: json(ErrorSchema, "The provider refused"),
        },
      }),
      async (c) => c.json(toJobDto(await training[action](c.get("actor"), c.req.valid("param").id)), 200),
    );
  }
}

/** The seed's realtime subscription, as Server-Sent Events to the job's owner only. */
function streamRoutes(app: OpenAPIHono<AppEnv>, training: TrainingService, updates: TrainingUpdates) {
  // Registered for the OpenAPI document, served by a plain handler: the answer is an event stream.
  for (const [path, summary] of [
    ["/api/training-jobs/stream", "Server-Sent Events: every update of any of your training jobs"],
    ["/api/training-jobs/{id}/stream", "Server-Sent Events: every update of one training job"],
  ] as const) {
    app.openAPIRegistry.registerPath({
      method: "get",
      path,
      summary,
      request: path.includes("{id}") ? { params: IdParams } : {},
      responses: {
        200: { content: { "text/event-stream": { schema: z.string() } }, description: "`job` events" },
        ...errorResponses,
      },
    });
  }
  const stream = async (c: Context<AppEnv>, jobId: string | undefined) => {
    const actor = c.get("actor");
    // The current state first, so a client never misses what happened before it connected.
    const initial = jobId ? [await training.get(actor, jobId)] : await training.list(actor, {});
    return streamSSE(c, async (sse) => {
      let pending = Promise.resolve();
      const lastSent = new Map<string, string>();
      const send = async (job: TrainingJobView) => {
        const data = JSON.stringify(toJobDto(job));
        // Quick updates arrive together and read the same latest row: each state is sent once.
        if (lastSent.get(job.id) === data) return;
        lastSent.set(job.id, data);
        await sse.writeSSE({ event: "job", id: `${job.id}:${job.updatedAt.getTime()}`, data });
      };
      const unsubscribe = await updates.subscribe(actor.userId, jobId, (changed) => {
        // In order, one at a time, each reading the row when its turn comes: the last one sent is the
        // latest state, though states that follow each other within moments may be sent as one.
        pending = pending.then(() => training.get(actor, changed).then(send, () => undefined));
      });
      sse.onAbort(unsubscribe);
      for (const job of initial) await send(job);
      while (!sse.aborted) {
        await sse.sleep(15_000);
        if (!sse.aborted) await sse.writeSSE({ event: "ping", data: "" });
      }
    });
  };
  app.get("/api/training-jobs/stream", (c) => stream(c, undefined));
  app.get("/api/training-jobs/:id/stream", (c) => stream(c, c.req.param("id")));
}
