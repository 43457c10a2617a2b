import { createServices, type ServiceSettings, type Services } from "../../src/context.js";
import { type Logger, silentLogger } from "../../src/logger.js";
import { Queue } from "../../src/queue/queue.js";
import { type App, createApp } from "../../src/server/app.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";
import { TEST_ENCRYPTION_SECRET } from "./test-secret.js";

export interface TestApp {
  database: TestDatabase;
  queue: Queue;
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

export interface TestAppOptions {
  /** Run the background jobs (document processing …) in the test's process. */
  workers?: boolean;
  settings?: Partial<ServiceSettings>;
  /** Where the services and the app log (a test can capture the lines); silent by default. */
  logger?: Logger;
}

/** The real HTTP app, services and queue on a fresh database, driven in-process through `app.request`. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const logger = options.logger ?? silentLogger;
  const queue = new Queue(database, logger, { concurrency: 2, pollingIntervalSeconds: 0.5 });
  const settings = {
    maxDocumentBytes: 50 * 1024 * 1024,
    encryptionSecret: TEST_ENCRYPTION_SECRET,
    ...options.settings,
  };
  const services = createServices(database, queue, settings, logger);
  if (options.workers) await queue.work(services.jobs.all);
  const app = createApp({ services, logger, databaseKind: database.kind, settings });
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
    queue,
    services,
    app,
    async signUp(email) {
      const user = await services.auth.createUser({ email, password: "correct horse battery" });
      const { token } = await services.auth.createApiToken({ userId: user.id }, { name: "test" });
      return { userId: user.id, token, call: callAs(token) };
    },
    async close() {
      await services.updates.close();
      await queue.stop();
      await services.analysis.close();
      await database.close();
    },
  };
}
