import { readFileSync } from "node:fs";

/**
 * The Node flags the `fineflow` command runs with, read from its first line (`bin/fineflow.js`), so that
 * the benchmarks measure FineFlow as users run it.
 */
export const FINEFLOW_NODE_FLAGS: string[] =
  readFileSync(new URL("../bin/fineflow.js", import.meta.url), "utf8")
    .split("\n", 1)[0]
    ?.match(/ node (.+)$/)?.[1]
    ?.split(" ") ?? [];
