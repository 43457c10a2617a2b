import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { llmEndpointSchema } from "../../core/llm-endpoint.js";
import type { LlmEndpointService, LlmEndpointView } from "../../services/llm-endpoint-service.js";
import type { AppEnv } from "../env.js";
import { errorResponses, json, jsonBody } from "../schemas.js";

const LlmEndpointSchema = z
  .object({
    source: z.enum(["user", "server", "none"]),
    baseUrl: z.string().nullable(),
    model: z.string().nullable(),
    keySet: z.boolean(),
    updatedAt: z.iso.datetime().nullable(),
  })
  .openapi("LlmEndpoint");

const toLlmEndpointDto = (view: LlmEndpointView) => ({
  ...view,
  updatedAt: view.updatedAt?.toISOString() ?? null,
});

export function llmEndpointRoutes(app: OpenAPIHono<AppEnv>, endpoints: LlmEndpointService) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/llm-endpoint",
      summary: "The chat endpoint your dataset generation uses: yours, the server's, or none",
      responses: { 200: json(LlmEndpointSchema, "The endpoint in use"), 401: errorResponses[401] },
    }),
    async (c) => c.json(toLlmEndpointDto(await endpoints.get(c.get("actor"))), 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/llm-endpoint",
      summary: "Use your own OpenAI-compatible endpoint for generation (its key: PUT /api/keys/llm)",
      request: { body: jsonBody(llmEndpointSchema) },
      responses: { 200: json(LlmEndpointSchema, "The endpoint in use"), ...errorResponses },
    }),
    async (c) => c.json(toLlmEndpointDto(await endpoints.set(c.get("actor"), c.req.valid("json"))), 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/llm-endpoint",
      summary: "Stop using your own endpoint (back to the server's, or the extractive generator)",
      responses: { 204: { description: "Cleared" }, ...errorResponses },
    }),
    async (c) => {
      await endpoints.clear(c.get("actor"));
      return c.body(null, 204);
    },
  );
}
