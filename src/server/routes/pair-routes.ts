import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { PAIR_STATUSES } from "../../core/statuses.js";
import type { PairRow } from "../../db/repositories/datasets-repository.js";
import type { PairService } from "../../services/pair-service.js";
import type { AppEnv } from "../env.js";
import { queryNumber } from "../query.js";
import {
  DatasetSchema,
  ErrorSchema,
  errorResponses,
  IdParams,
  json,
  jsonBody,
  PairSchema,
} from "../schemas.js";
import { toDatasetDto } from "./dataset-routes.js";

export const toPairDto = (p: PairRow) => ({
  id: p.id,
  updatedAt: p.updatedAt.toISOString(),
  messages: p.messages,
  mode: p.mode,
  status: p.status,
  rejectionReason: p.rejectionReason,
  qualityScore: p.qualityScore,
  qualityBreakdown: p.qualityBreakdown,
  tokenCount: p.tokenCount,
  isValid: p.isValid,
  sourceChunkId: p.sourceChunkId,
  sourceDocumentId: p.sourceDocumentId,
  generator: p.generator,
  model: p.model,
  promptVersion: p.promptVersion,
});

const PairQuery = z.object({
  status: z.enum(PAIR_STATUSES).optional(),
  valid: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  minQuality: queryNumber(z.number().min(0).max(1).optional()),
  maxQuality: queryNumber(z.number().min(0).max(1).optional()),
  search: z.string().min(1).max(200).optional(),
  sort: z.enum(["created", "quality", "tokens"]).optional(),
  order: z.enum(["asc", "desc"]).optional(),
  limit: queryNumber(z.number().int().min(1).max(500).default(50)),
  offset: queryNumber(z.number().int().min(0).default(0)),
});

const Messages = z
  .object({
    messages: z.array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() })),
  })
  .openapi("PairMessages");

const PairEdit = Messages.extend({
  expectedUpdatedAt: z.iso.datetime({ offset: true }).optional().openapi({
    description:
      "The pair's updatedAt as the editor loaded it: a pair changed since is refused (409), not overwritten",
  }),
}).openapi("PairEdit");

const busy = { 409: json(ErrorSchema, "A training job uses the dataset, or it is still generating") };

/** Review and edit: the pair editor's API. */
export function pairRoutes(app: OpenAPIHono<AppEnv>, pairs: PairService) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/datasets/{id}/pairs",
      summary: "A dataset's pairs, paged, filtered (status, validity, quality, text) and sorted",
      request: { params: IdParams, query: PairQuery },
      responses: {
        200: json(z.object({ total: z.number().int(), pairs: z.array(PairSchema) }), "One page of pairs"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const page = await pairs.list(c.get("actor"), c.req.valid("param").id, c.req.valid("query"));
      return c.json({ total: page.total, pairs: page.pairs.map(toPairDto) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/datasets/{id}/pairs",
      summary: "Add a pair by hand",
      request: { params: IdParams, body: jsonBody(Messages) },
      responses: { 201: json(PairSchema, "The new pair"), ...errorResponses, ...busy },
    }),
    async (c) =>
      c.json(toPairDto(await pairs.add(c.get("actor"), c.req.valid("param").id, c.req.valid("json"))), 201),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/datasets/{id}/pairs/delete",
      summary: "Delete several pairs at once",
      request: {
        params: IdParams,
        body: jsonBody(z.object({ ids: z.array(z.string()).min(1).max(10_000) })),
      },
      responses: {
        200: json(z.object({ deleted: z.number().int() }), "How many went"),
        ...errorResponses,
        ...busy,
      },
    }),
    async (c) => {
      const deleted = await pairs.delete(c.get("actor"), c.req.valid("param").id, c.req.valid("json").ids);
      return c.json({ deleted }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/api/datasets/{id}",
      summary: "Set (or clear, with null) the dataset-wide system prompt applied at export",
      request: { params: IdParams, body: jsonBody(z.object({ systemPrompt: z.string().nullable() })) },
      responses: { 200: json(DatasetSchema, "The dataset"), ...errorResponses, ...busy },
    }),
    async (c) => {
      const dataset = await pairs.setSystemPrompt(
        c.get("actor"),
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return c.json(toDatasetDto(dataset), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/pairs/{id}",
      summary: "One pair, with its provenance",
      request: { params: IdParams },
      responses: { 200: json(PairSchema, "The pair"), ...errorResponses },
    }),
    async (c) => c.json(toPairDto(await pairs.get(c.get("actor"), c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/api/pairs/{id}",
      summary: "Edit a pair's messages (system, user, assistant, and a conversation's turns)",
      request: { params: IdParams, body: jsonBody(PairEdit) },
      responses: { 200: json(PairSchema, "The edited pair"), ...errorResponses, ...busy },
    }),
    async (c) =>
      c.json(toPairDto(await pairs.edit(c.get("actor"), c.req.valid("param").id, c.req.valid("json"))), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/pairs/{id}/restore",
      summary: "Take a pair the safety filter rejected into the dataset",
      request: { params: IdParams },
      responses: { 200: json(PairSchema, "The restored pair"), ...errorResponses, ...busy },
    }),
    async (c) => c.json(toPairDto(await pairs.restore(c.get("actor"), c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/pairs/{id}",
      summary: "Delete one pair",
      request: { params: IdParams },
      responses: { 204: { description: "Deleted" }, ...errorResponses, ...busy },
    }),
    async (c) => {
      const pair = await pairs.get(c.get("actor"), c.req.valid("param").id);
      await pairs.delete(c.get("actor"), pair.datasetId, [pair.id]);
      return c.body(null, 204);
    },
  );
}
