import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../src/context.js";
import { keyIdOf } from "../src/core/secret-box.js";
import { silentLogger } from "../src/logger.js";
import { Queue } from "../src/queue/queue.js";
import { runCli, startServer } from "./helpers/run-cli.js";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database.js";
import { TEST_ENCRYPTION_SECRET } from "./helpers/test-secret.js";

const OPENAI_KEY = "sk-proj-CliOpenAIKey0000000000000000000000000000wxyz";
const NEW_SECRET = "a-new-embedded-secret-for-the-cli-test-0123456789";

// Server mode needs PostgreSQL: this file runs in the suite's PostgreSQL pass (DATABASE_URL set), and the
// CLI's other tests, on embedded databases of their own, only in the first.
describe.runIf(process.env.DATABASE_URL)(
  "fineflow in server mode (DATABASE_URL)",
  { timeout: 120_000 },
  () => {
    let database: TestDatabase;
    let pgEnv: Record<string, string>;
    beforeAll(async () => {
      database = await createTestDatabase();
      pgEnv = { DATABASE_URL: database.url ?? "" };
    });
    afterAll(() => database.close());

    it("creates a user and a token as the operator, then acts as that user with FINEFLOW_TOKEN", async () => {
      const weak = await runCli(["user", "create", "--email", "ops@example.com"], pgEnv, "short\n");
      expect(weak.code).toBe(1);
      expect(weak.stderr).toContain("password: must be at least 8 characters");

      const user = await runCli(
        ["user", "create", "--email", "ops@example.com", "--json"],
        pgEnv,
        "a long password\n",
      );
      expect(user.code).toBe(0);
      expect(JSON.parse(user.stdout)).toMatchObject({ email: "ops@example.com", isLocalOwner: false });

      const noToken = await runCli(["project", "list"], pgEnv);
      expect(noToken.code).toBe(1);
      expect(noToken.stderr).toContain("FINEFLOW_TOKEN");

      const token = await runCli(
        ["token", "create", "--email", "ops@example.com", "--name", "ci", "--json"],
        pgEnv,
      );
      expect(token.code).toBe(0);
      const asOps = { ...pgEnv, FINEFLOW_TOKEN: JSON.parse(token.stdout).token as string };

      expect((await runCli(["project", "create", "prod"], asOps)).code).toBe(0);
      const listed = await runCli(["project", "list", "--json"], asOps);
      expect(JSON.parse(listed.stdout).map((p: { name: string }) => p.name)).toEqual(["prod"]);

      // The same token reaches a running server over HTTP.
      const server = await startServer(pgEnv);
      try {
        expect(await (await fetch(`${server.url}/api/health`)).json()).toMatchObject({
          database: "postgres",
        });
        const remote = await runCli(["project", "list", "--json"], {
          FINEFLOW_URL: server.url,
          FINEFLOW_TOKEN: asOps.FINEFLOW_TOKEN ?? "",
        });
        expect(JSON.parse(remote.stdout).map((p: { name: string }) => p.name)).toEqual(["prod"]);
      } finally {
        server.child.kill("SIGTERM");
        await new Promise((resolve) => server.child.once("exit", resolve));
      }
    });

    it("rotates every key under a new secret", async () => {
      const database = await createTestDatabase();
      try {
        const pgEnv = { DATABASE_URL: database.url ?? "" };

        const settings = { maxDocumentBytes: 1 << 20, encryptionSecret: TEST_ENCRYPTION_SECRET };
        const services = createServices(
          database,
          new Queue(database, silentLogger, { concurrency: 1 }),
          settings,
          silentLogger,
        );
        const user = await services.auth.createUser({
          email: "ops@example.com",
          password: "a long password",
        });
        await services.keys.set({ userId: user.id }, "openai", OPENAI_KEY);

        const rotated = await runCli(["keys", "rotate", "--json"], pgEnv, `${NEW_SECRET}\n`);
        expect(rotated.stderr).toBe("");
        expect(JSON.parse(rotated.stdout)).toEqual({
          keyId: keyIdOf(NEW_SECRET),
          reencrypted: 1,
          skipped: 0,
        });
        const told = await runCli(
          ["keys", "rotate"],
          { ...pgEnv, API_KEY_ENCRYPTION_SECRET: NEW_SECRET },
          `${NEW_SECRET}\n`,
        );
        expect(told.stdout).toContain("(key id");
        expect(told.stdout).toContain("Now set API_KEY_ENCRYPTION_SECRET to the new secret");

        const after = createServices(
          database,
          new Queue(database, silentLogger, { concurrency: 1 }),
          { ...settings, encryptionSecret: NEW_SECRET },
          silentLogger,
        );
        expect(await after.keys.reveal({ userId: user.id }, "openai")).toBe(OPENAI_KEY);
      } finally {
        await database.close();
      }
    });
  },
);
