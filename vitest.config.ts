import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most test files spend their time waiting (on CLI processes, simulated provider latency, polling),
    // so more files than cores run at once pay off: on 2 cores, 3 workers cut a pass from ~9 to ~6.5 min.
    maxWorkers: Math.max(3, availableParallelism()),
  },
});
