import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Actor } from "../../core/actor.js";
import { manageApiKeysSchema, setApiKeySchema } from "../../core/api-keys.js";
import { KEY_PROVIDERS } from "../../core/statuses.js";
import type { KeyService, KeyStatus } from "../../services/key-service.js";
import type { AppEnv } from "../env.js";
import { errorResponses, json, jsonBody } from "../schemas.js";

/** Whether a key is set and its last four characters: never the key. */
const KeyStatusSchema = z
  .object({
    provider: z.enum(KEY_PROVIDERS),
    set: z.boolean(),
    last4: z.string().optional(),
    updatedAt: z.iso.datetime().optional(),
  })
  .openapi("ApiKeyStatus");
const KeysSchema = z.object({ keys: z.array(KeyStatusSchema) });

const ProviderParams = z.object({
  provider: z
    .enum(KEY_PROVIDERS, { error: `must be one of ${KEY_PROVIDERS.join(", ")}` })
    .openapi({ param: { name: "provider", in: "path" } }),
});

const toKeyStatusDto = ({ provider, set, last4, updatedAt }: KeyStatus) =>
  set ? { provider, set, last4, updatedAt: updatedAt?.toISOString() } : { provider, set };

export function keyRoutes(app: OpenAPIHono<AppEnv>, keys: KeyService) {
  const statusOf = async (actor: Actor) => ({ keys: (await keys.status(actor)).map(toKeyStatusDto) });

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/keys",
      summary: "Which provider API keys you have set (last four characters only)",
      responses: { 200: json(KeysSchema, "One entry per provider"), 401: errorResponses[401] },
    }),
    async (c) => c.json(await statusOf(c.get("actor")), 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/keys/{provider}",
      summary: "Set or replace your API key for a provider (stored encrypted)",
      request: { params: ProviderParams, body: jsonBody(setApiKeySchema) },
      responses: { 200: json(KeyStatusSchema, "The key's status"), ...errorResponses },
    }),
    async (c) => {
      const status = await keys.set(
        c.get("actor"),
        c.req.valid("param").provider,
        c.req.valid("json").apiKey,
      );
      return c.json(toKeyStatusDto(status), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/keys/{provider}",
      summary: "Delete your API key for a provider",
      request: { params: ProviderParams },
      responses: { 204: { description: "Deleted" }, ...errorResponses },
    }),
    async (c) => {
      await keys.delete(c.get("actor"), c.req.valid("param").provider);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/keys",
      summary: "The seed's manage-api-keys call: set, status or delete in one endpoint",
      request: { body: jsonBody(manageApiKeysSchema) },
      responses: { 200: json(KeysSchema, "Every provider's status after the action"), ...errorResponses },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const actor = c.get("actor");
      if (input.action === "set") await keys.set(actor, input.provider, input.apiKey);
      if (input.action === "delete") await keys.delete(actor, input.provider);
      return c.json(await statusOf(actor), 200);
    },
  );
}
