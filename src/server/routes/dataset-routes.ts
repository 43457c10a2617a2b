import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { generateDatasetSchema } from "../../core/inputs.js";
import type { DatasetRow, GenerationProgress } from "../../db/repositories/datasets-repository.js";
import type { GenerationService } from "../../services/generation-service.js";
import type { AppEnv } from "../env.js";
import { DatasetSchema, ErrorSchema, errorResponses, IdParams, json } from "../schemas.js";

export const toDatasetDto = ({ userId: _owner, ...d }: DatasetRow & { progress?: GenerationProgress }) => ({
  ...d,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

export function datasetRoutes(app: OpenAPIHono<AppEnv>, generation: GenerationService) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/projects/{id}/datasets",
      summary:
        "Generate a dataset from the project's chunks (or resume the one of that name); runs in the background",
      request: {
        params: IdParams,
        body: { content: { "application/json": { schema: generateDatasetSchema } }, required: true },
      },
      responses: {
        202: json(DatasetSchema, "Generating; poll GET /api/datasets/{id} for progress"),
        ...errorResponses,
        409: json(ErrorSchema, "A complete dataset of that name exists"),
      },
    }),
    async (c) => {
      const dataset = await generation.start(c.get("actor"), c.req.valid("param").id, c.req.valid("json"));
      return c.json(toDatasetDto(dataset), 202);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/projects/{id}/datasets",
      summary: "A project's datasets",
      request: { params: IdParams },
      responses: {
        200: json(z.object({ datasets: z.array(DatasetSchema) }), "The datasets"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const datasets = await generation.list(c.get("actor"), { projectId: c.req.valid("param").id });
      return c.json({ datasets: datasets.map(toDatasetDto) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/datasets/{id}",
      summary: "One dataset with its generation progress",
      request: { params: IdParams },
      responses: { 200: json(DatasetSchema, "The dataset"), ...errorResponses },
    }),
    async (c) => c.json(toDatasetDto(await generation.get(c.get("actor"), c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/datasets/{id}/cancel",
      summary: "Stop generating; the pairs made so far are kept",
      request: { params: IdParams },
      responses: {
        200: json(DatasetSchema, "Cancelled"),
        ...errorResponses,
        409: json(ErrorSchema, "Not generating"),
      },
    }),
    async (c) => c.json(toDatasetDto(await generation.cancel(c.get("actor"), c.req.valid("param").id)), 200),
  );
}
