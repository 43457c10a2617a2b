import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { EXPORT_CHUNK_CHARS, EXPORT_FORMATS, suggestedFileName } from "../../core/export/formats.js";
import { DEFAULT_MODEL } from "../../core/models.js";
import type { DatasetFileService } from "../../services/dataset-file-service.js";
import type { GenerationService } from "../../services/generation-service.js";
import { parseInput } from "../../services/parse-input.js";
import type { AppEnv } from "../env.js";
import { queryNumber } from "../query.js";
import {
  DatasetSchema,
  ErrorSchema,
  errorResponses,
  IdParams,
  json,
  ValidationResultSchema,
} from "../schemas.js";
import { toDatasetDto } from "./dataset-routes.js";

const hardTokenLimit = z.number().int().min(1).optional();
/** What validation checks against: in the validate request's JSON body, and in the export's query. */
const ModelOptions = {
  model: z
    .string()
    .min(1)
    .optional()
    .openapi({ description: `The base model to check against (default ${DEFAULT_MODEL})` }),
  hardTokenLimit,
};

const booleanFlag = z.enum(["true", "false"]).transform((v) => v === "true");
/** A validation share: both files must hold pairs, so neither 0 nor 1 is one. */
const SPLIT_RANGE = "must be more than 0 and less than 1, e.g. 0.1";

const ExportQuery = z
  .object({
    format: z.enum(EXPORT_FORMATS),
    includeSystemPrompt: booleanFlag.optional(),
    onlyValid: booleanFlag.optional(),
    split: queryNumber(z.number().gt(0, SPLIT_RANGE).lt(1, SPLIT_RANGE).optional()),
    seed: queryNumber(z.number().int().default(42)),
    part: z.enum(["train", "validation"]).optional(),
    ...ModelOptions,
    hardTokenLimit: queryNumber(hardTokenLimit),
  })
  .refine((q) => (q.split === undefined) === (q.part === undefined), {
    path: ["part"],
    message: "split and part go together: give both, or neither",
  });

export function datasetFileRoutes(
  app: OpenAPIHono<AppEnv>,
  files: DatasetFileService,
  generation: GenerationService,
) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/datasets",
      summary: "Your datasets across projects, optionally those of one name",
      request: { query: z.object({ name: z.string().optional() }) },
      responses: {
        200: json(z.object({ datasets: z.array(DatasetSchema) }), "The datasets"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const datasets = await generation.list(c.get("actor"), { name: c.req.valid("query").name });
      return c.json({ datasets: datasets.map(toDatasetDto) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/projects/{id}/datasets/import",
      summary:
        "Import a JSONL file in any export format as a new, ready dataset; one bad line and nothing is stored",
      request: {
        params: IdParams,
        body: {
          content: {
            "multipart/form-data": {
              schema: z.object({
                file: z.instanceof(File).openapi({ type: "string", format: "binary" }),
                datasetName: z.string(),
                format: z.enum([...EXPORT_FORMATS, "auto"]).default("auto"),
              }),
            },
          },
          required: true,
        },
      },
      responses: {
        201: json(DatasetSchema, "The imported dataset"),
        ...errorResponses,
        409: json(ErrorSchema, "A dataset of that name exists"),
      },
    }),
    async (c) => {
      const { file, datasetName, format } = c.req.valid("form");
      const dataset = await files.import(c.get("actor"), c.req.valid("param").id, {
        datasetName,
        format,
        fileName: file.name,
        text: await file.text(),
      });
      return c.json(toDatasetDto(dataset), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/datasets/{id}/validate",
      summary:
        "Validate a dataset for a base model: the seed's ValidationResult, each issue naming its pairs",
      request: {
        params: IdParams,
        body: { content: { "application/json": { schema: z.object(ModelOptions) } }, required: false },
      },
      responses: {
        200: json(ValidationResultSchema, "The verdict"),
        ...errorResponses,
        409: json(ErrorSchema, "Still generating"),
      },
    }),
    async (c) => {
      const result = await files.validate(c.get("actor"), c.req.valid("param").id, c.req.valid("json") ?? {});
      return c.json(result, 200);
    },
  );

  // Registered for the OpenAPI document, served by a plain handler: the answer is a stream, not JSON.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/datasets/{id}/export",
    summary: "Download a dataset as JSONL, streamed; with split/seed/part, one side of a seeded split",
    request: { params: IdParams, query: ExportQuery },
    responses: {
      200: { content: { "application/jsonl": { schema: z.string() } }, description: "One example a line" },
      ...errorResponses,
      409: json(ErrorSchema, "Still generating"),
    },
  });
  app.get("/api/datasets/:id/export", async (c) => {
    const query = parseInput(ExportQuery, c.req.query());
    const split =
      query.split !== undefined && query.part
        ? { fraction: query.split, seed: query.seed, part: query.part }
        : undefined;
    const { dataset, lines } = await files.export(c.get("actor"), c.req.param("id"), { ...query, split });
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let chunk = "";
        while (chunk.length < EXPORT_CHUNK_CHARS) {
          const next = await lines.next();
          if (next.done) {
            if (chunk) controller.enqueue(encoder.encode(chunk));
            controller.close();
            return;
          }
          chunk += next.value;
        }
        controller.enqueue(encoder.encode(chunk));
      },
      async cancel() {
        await lines.return(undefined);
      },
    });
    return c.body(body, 200, {
      "content-type": "application/jsonl; charset=utf-8",
      "content-disposition": `attachment; filename="${suggestedFileName(dataset.name, query.format, split?.part)}"`,
    });
  });
}
