import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Runs every `bench/*.bench.ts` in a process of its own, so each one's peak memory is its own.
 * `npm run bench -- ingest` runs only the benchmarks whose name contains "ingest"; other arguments after
 * the name are passed on (e.g. `npm run bench -- ingest --mb 5`).
 */
const dir = fileURLToPath(new URL(".", import.meta.url));
const [filter, ...rest] = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((file) => file.endsWith(".bench.ts") && (!filter || file.includes(filter)))
  .sort();
if (benches.length === 0) {
  console.error(`No benchmark matches "${filter}".`);
  process.exit(1);
}
let failed = false;
for (const bench of benches) {
  console.log(`\n## ${bench}`);
  const run = spawnSync(process.execPath, ["--import", "tsx", `${dir}${bench}`, ...rest], {
    stdio: "inherit",
  });
  failed ||= run.status !== 0;
}
process.exit(failed ? 1 : 0);
