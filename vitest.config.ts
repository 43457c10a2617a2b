import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

const TEST_DIRS = ["src", "test"];

/** A test file that opens a database through the test helpers, or reads DATABASE_URL itself. */
const USES_DATABASE = /helpers\/test-(database|app)\.js|process\.env\.DATABASE_URL/;

/**
 * The suite runs twice in CI: on PGlite, then with DATABASE_URL on PostgreSQL. Only the files that open a
 * database through the test helpers run differently the second time; the rest (pure units, and the CLI and
 * web app end to end, each on an embedded database of its own) would repeat the first pass exactly, so the
 * PostgreSQL pass leaves them out.
 */
function databaseTestFiles(): string[] {
  return TEST_DIRS.flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .map((file) => `${dir}/${file}`)
      .filter((file) => file.endsWith(".test.ts") && USES_DATABASE.test(readFileSync(file, "utf8"))),
  );
}

export default defineConfig({
  test: {
    include: process.env.DATABASE_URL ? databaseTestFiles() : TEST_DIRS.map((dir) => `${dir}/**/*.test.ts`),
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most test files spend their time waiting (on CLI processes, simulated provider latency, polling),
    // so more files than cores run at once pay off: on 2 cores, 3 workers cut a pass from ~9 to ~6.5 min.
    maxWorkers: Math.max(3, availableParallelism()),
  },
});
