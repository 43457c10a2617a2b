import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ServiceSettings, Services } from "../context.js";
import type { Logger } from "../logger.js";
import { VERSION } from "../version.js";
import type { AppEnv } from "./env.js";
import { errorBody, handleError, validationHook } from "./errors.js";
import { authRoutes, publicAuthRoutes, requireUser } from "./routes/auth-routes.js";
import { datasetFileRoutes } from "./routes/dataset-file-routes.js";
import { datasetRoutes } from "./routes/dataset-routes.js";
import { documentRoutes } from "./routes/document-routes.js";
import { keyRoutes } from "./routes/key-routes.js";
import { llmEndpointRoutes } from "./routes/llm-endpoint-routes.js";
import { pairRoutes } from "./routes/pair-routes.js";
import { projectRoutes } from "./routes/project-routes.js";
import { trainingRoutes } from "./routes/training-routes.js";
import { json } from "./schemas.js";

const webRoot = fileURLToPath(new URL("../../web/dist", import.meta.url));

/**
 * The HTTP API and the web app. Routes parse, call a service and map errors; nothing else. The CLI drives
 * this same app, in-process or over the network, so both always agree.
 */
export interface AppDeps {
  services: Services;
  logger: Logger;
  databaseKind: string;
  settings: ServiceSettings;
}

export function createApp(deps: AppDeps) {
  const { services, logger } = deps;
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(handleError(logger));

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/health",
      summary: "Liveness, open without sign-in",
      responses: {
        200: json(z.object({ status: z.literal("ok"), version: z.string(), database: z.string() }), "Up"),
      },
    }),
    (c) => c.json({ status: "ok" as const, version: VERSION, database: deps.databaseKind }, 200),
  );
  // Bodies are limited before any route reads one: unlimited, a 400 MB body sent to the login, the one route
  // that reads a body without a sign-in, grew the server by 1.5 GB.
  app.use("/api/auth/login", requestLimit(PUBLIC_BODY_BYTES));
  publicAuthRoutes(app, services.auth);

  // Everything below needs a session or an API token.
  app.use("/api/*", requireUser(services.auth));
  app.use("/api/*", requestLimit(SIGNED_IN_BODY_BYTES));
  authRoutes(app, services.auth);
  projectRoutes(app, services.projects);
  keyRoutes(app, services.keys);
  llmEndpointRoutes(app, services.llmEndpoints);
  // Room for several documents per upload; a file over the per-document limit is still taken, and fails.
  const uploads = uploadLimit(deps.settings.maxDocumentBytes);
  app.use("/api/projects/:id/documents", uploads);
  app.use("/api/projects/:id/datasets/import", uploads);
  documentRoutes(app, services.documents);
  datasetRoutes(app, services.generation);
  datasetFileRoutes(app, services.files, services.generation);
  pairRoutes(app, services.pairs);
  trainingRoutes(app, services.training, services.updates);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A personal API token (ff_…)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "fineflow_session",
  });
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: { title: "FineFlow API", version: VERSION },
    security: [{ bearer: [] }, { session: [] }],
  });
  app.all("/api/*", (c) => {
    const allowed = methodsAt(app.routes, c.req.path);
    if (allowed.length === 0) {
      return c.json(errorBody("not_found", `No API route ${c.req.method} ${c.req.path}.`), 404);
    }
    // HEAD is answered wherever GET is (Hono does), and OPTIONS asks only for this header.
    c.header("allow", (allowed.includes("GET") ? [...allowed, "HEAD"] : allowed).join(", "));
    if (c.req.method === "OPTIONS") return c.body(null, 204);
    return c.json(
      errorBody("method_not_allowed", `${c.req.path} takes ${allowed.join(", ")}, not ${c.req.method}.`),
      405,
    );
  });

  if (existsSync(webRoot)) {
    app.use("/*", serveStatic({ root: webRoot }));
    // The web app routes in the browser: unknown paths get its page.
    app.get("/*", serveStatic({ root: webRoot, path: "index.html" }));
  } else {
    app.get("/", (c) => c.text("FineFlow's API is running. Build the web app with `npm run build:web`."));
  }
  return app;
}
export type App = ReturnType<typeof createApp>;

/** The methods the API's routes take at `path`: a wrong method there is a 405 naming them, not a 404. */
function methodsAt(routes: readonly { method: string; path: string }[], path: string): string[] {
  const methods = new Set(
    routes
      .filter((route) => route.method !== "ALL" && routePattern(route.path).test(path))
      .map((route) => route.method),
  );
  return METHOD_ORDER.filter((method) => methods.has(method));
}

/** The order methods are named in, whatever order their routes were added in. */
const METHOD_ORDER = ["GET", "POST", "PUT", "PATCH", "DELETE"];

// Only `:param` segments are patterns in these routes; anything else, a `*` too, is taken as written.
const routePattern = (route: string) =>
  new RegExp(`^${route.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+")}$`);

/** A sign-in's body: an email and a password of at most 1,024 characters. */
const PUBLIC_BODY_BYTES = 64 * 1024;
/**
 * The largest body the API takes, but an upload's: a pair at its limits, 41 messages of 200,000 characters,
 * ~49 MB with every character written as a \uXXXX escape (as Python's `json.dumps` writes all but ASCII).
 */
const SIGNED_IN_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Any request body over `maxSize` is refused as it is read, with the one error shape. Not an upload's (a
 * multipart body, limited by `uploadLimit`), which no other route reads.
 */
function requestLimit(maxSize: number): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize,
    onError: (c) =>
      c.json(errorBody("payload_too_large", `The request's body is over ${sizeOf(maxSize)}.`), 413),
  });
  return (c, next) =>
    c.req.header("content-type")?.startsWith("multipart/form-data") ? next() : limit(c, next);
}

const sizeOf = (bytes: number) =>
  bytes < 1024 * 1024
    ? `${Math.round(bytes / 1024)} KB`
    : `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

/**
 * Uploads over four documents' worth are refused before they are read, with the one error shape; a file
 * over the document limit but under this one is stored as a failed document saying so. The message names
 * the per-file limit too: a request of one file (as `fineflow ingest` sends) can only be made smaller.
 */
function uploadLimit(maxDocumentBytes: number) {
  return bodyLimit({
    maxSize: 4 * maxDocumentBytes,
    onError: (c) =>
      c.json(
        errorBody(
          "payload_too_large",
          `The upload is over ${sizeOf(4 * maxDocumentBytes)}, and a file may be at most ` +
            `${sizeOf(maxDocumentBytes)} (FINEFLOW_MAX_DOCUMENT_MB): send fewer or smaller files per request.`,
        ),
        413,
      ),
  });
}
