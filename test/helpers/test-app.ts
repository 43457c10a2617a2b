import { createServices, type Services } from "../../src/context.js";
import { silentLogger } from "../../src/logger.js";
import { type App, createApp } from "../../src/server/app.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";

export interface TestApp {
  database: TestDatabase;
  services: Services;
  app: App;
  /** Creates a user with an API token and returns a request function that acts as them. */
  signUp(email: string): Promise<{ userId: string; token: string; call: ApiCall }>;
  close(): Promise<void>;
}

export type ApiCall = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: JsonBody }>;

// biome-ignore lint/suspicious/noExplicitAny: tests read API answers as loose JSON and assert on them.
type JsonBody = any;

/** The real HTTP app on a fresh database, driven in-process through `app.request`. */
export async function createTestApp(): Promise<TestApp> {
  const database = await createTestDatabase();
  const services = createServices(database);
  const app = createApp({ services, logger: silentLogger, databaseKind: database.kind });
  const callAs =
    (token?: string): ApiCall =>
    async (method, path, body) => {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await app.request(path, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };
  return {
    database,
    services,
    app,
    async signUp(email) {
      const user = await services.auth.createUser({ email, password: "correct horse battery" });
      const { token } = await services.auth.createApiToken({ userId: user.id }, { name: "test" });
      return { userId: user.id, token, call: callAs(token) };
    },
    close: () => database.close(),
  };
}
