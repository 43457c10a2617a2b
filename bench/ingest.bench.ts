import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import pg from "pg";
import { loadConfig } from "../src/config.js";
import { createServices } from "../src/context.js";
import { DEFAULT_CHUNK_OPTIONS } from "../src/core/chunk-blocks.js";
import { type Database, openPglite, openPostgres } from "../src/db/client.js";
import { UsersRepository } from "../src/db/repositories/users-repository.js";
import { limitHeapGrowth } from "../src/heap.js";
import { silentLogger } from "../src/logger.js";
import { Queue } from "../src/queue/queue.js";
import { analyzeDocument } from "../src/services/analyze-document.js";
import { generateCorpus } from "./corpus.js";
import { documentsProcessed } from "./documents.js";
import { measurePeakRss } from "./peak-rss.js";

// As the `fineflow` command runs: the figures are the product's.
limitHeapGrowth();

/**
 * Ingestion end to end — upload, queue, parse → chunk → score → dedupe → store, on the embedded database
 * (or, with DATABASE_URL set, on a new PostgreSQL database next to that one, dropped afterwards), with the
 * queue's default settings — against the raw o200k tokenizer on the same text in the same run. Targets
 * (issue 3): ≥ 50% of the tokenizer's throughput, peak RSS under 500 MB. `--mb N` sets the corpus size
 * (default 50).
 */
const mbArg = process.argv.indexOf("--mb");
const corpusMb = mbArg > 0 ? Number(process.argv[mbArg + 1]) : 50;
const MB = 1024 * 1024;

const corpusFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => join(dir, name));

/**
 * Everything but the ingest itself runs in a child process of its own: writing the corpus, so that its
 * generator's memory is not the ingesting process's; the raw tokenizer and processing alone, so that
 * neither shares a warm cache with the ingest (gpt-tokenizer keeps the pre-tokens it has encoded, and
 * FineFlow's counter their counts: run in one process, whichever went second would look faster).
 */
const childArg = process.argv.findIndex((arg) => arg.startsWith("--child-"));
const mode = childArg > 0 ? process.argv[childArg] : undefined;
const corpusDir = process.argv[childArg + 1] as string;
if (mode === "--child-write-corpus") {
  generateCorpus(corpusMb * MB).forEach((text, i) => {
    writeFileSync(join(corpusDir, `doc-${String(i).padStart(5, "0")}.md`), text);
  });
  process.exit(0);
}
if (mode === "--child-raw-tokenizer") {
  // Imported here only: the ingesting process would otherwise hold tables it does not use.
  const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base");
  // Decoding included, as ingestion must decode too.
  const decoder = new TextDecoder();
  let seconds = 0;
  let tokens = 0;
  for (const path of corpusFiles(corpusDir)) {
    const file = readFileSync(path);
    const started = performance.now();
    tokens += countTokens(decoder.decode(file));
    seconds += (performance.now() - started) / 1000;
  }
  console.log(JSON.stringify({ seconds, tokens }));
  process.exit(0);
}
if (mode === "--child-processing-alone") {
  let seconds = 0;
  for (const path of corpusFiles(corpusDir)) {
    const file = new Uint8Array(readFileSync(path));
    const started = performance.now();
    // The chunking a new project has, as the ingest's project below.
    await analyzeDocument("markdown", file, {
      chunkTargetTokens: DEFAULT_CHUNK_OPTIONS.targetTokens,
      chunkOverlapTokens: DEFAULT_CHUNK_OPTIONS.overlapTokens,
    });
    seconds += (performance.now() - started) / 1000;
  }
  console.log(JSON.stringify({ seconds }));
  process.exit(0);
}
const child = (mode: string, dir: string) =>
  execFileSync(process.execPath, [
    ...process.execArgv,
    process.argv[1] as string,
    "--mb",
    String(corpusMb),
    `--child-${mode}`,
    dir,
  ]).toString();

const dir = mkdtempSync(join(tmpdir(), "fineflow-bench-"));
child("write-corpus", dir);
const files = corpusFiles(dir);
const bytes = files.reduce((n, path) => n + statSync(path).size, 0);

// The limit: the tokenizer alone over the same text.
const { seconds: rawSeconds, tokens } = JSON.parse(child("raw-tokenizer", dir)) as {
  seconds: number;
  tokens: number;
};

// Memory is the ingesting process's from here on.
const peakRss = measurePeakRss();

/** PGlite on disk, as `fineflow` keeps it, or a PostgreSQL database of the benchmark's own. */
async function openBenchDatabase(): Promise<{ database: Database; drop: () => Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return { database: await openPglite(join(dir, "pgdata")), drop: async () => {} };
  const name = `fineflow_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    database: await openPostgres(url.toString()),
    drop: async () => {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
// What the process holds once the database is open is measured apart.
const { database, drop } = await openBenchDatabase();
const databaseName = database.kind === "postgres" ? "PostgreSQL" : "PGlite";
const openRss = process.memoryUsage().rss;
const config = loadConfig({});
const queue = new Queue(database, silentLogger, { concurrency: config.FINEFLOW_QUEUE_CONCURRENCY });
const services = createServices(
  database,
  queue,
  { maxDocumentBytes: 50 * MB, encryptionSecret: "bench-encryption-secret-0123456789abcdef" },
  silentLogger,
);
await queue.work(services.jobs.all);
const user = await new UsersRepository(database.db).insertUser({
  email: "bench@example.com",
  passwordHash: null,
});
const actor = { userId: user.id };
const project = await services.projects.create(actor, { name: "bench" });

// Uploaded a file at a time, as `fineflow ingest` sends them, while the queue's workers process them.
const started = performance.now();
for (const path of files) {
  const upload = { name: basename(path), bytes: new Uint8Array(readFileSync(path)) };
  await services.documents.ingest(actor, project.id, [upload]);
}
await documentsProcessed(database);
const ingestSeconds = (performance.now() - started) / 1000;
const peakMb = peakRss() / MB;

const stats = (
  await database.executeSql(
    "SELECT count(*)::int AS chunks, count(*) FILTER (WHERE is_duplicate)::int AS duplicates FROM chunks",
  )
).rows[0] as { chunks: number; duplicates: number };
const failed = (await database.executeSql("SELECT name, error FROM documents WHERE status <> 'ready'")).rows;
await queue.stop();
await services.analysis.close();
await database.close();
await drop();

// For comparison: the same documents' processing without the database, i.e. the ceiling of any speed-up on
// the database's side.
const { seconds: analysisSeconds } = JSON.parse(child("processing-alone", dir)) as { seconds: number };
rmSync(dir, { recursive: true, force: true });

const rawMbps = bytes / MB / rawSeconds;
const ingestMbps = bytes / MB / ingestSeconds;
const ratio = ingestMbps / rawMbps;
const fmt = (n: number, digits = 1) => n.toLocaleString("en-US", { maximumFractionDigits: digits });
console.log(
  `corpus: ${fmt(bytes / MB)} MB of Markdown in ${files.length} files, ${fmt(tokens / 1e6, 2)} M o200k tokens`,
);
console.log(`raw o200k tokenizer: ${fmt(tokens / rawSeconds / 1e6, 2)} M tokens/s = ${fmt(rawMbps, 2)} MB/s`);
console.log(
  `ingest on ${databaseName}: ${fmt(ingestMbps, 2)} MB/s, ${fmt(stats.chunks / ingestSeconds, 0)} chunks/s ` +
    `(${fmt(stats.chunks, 0)} chunks, ${fmt(stats.duplicates, 0)} duplicates, ${fmt(ingestSeconds, 1)} s)`,
);
console.log(
  `ratio ingest / raw tokenizer: ${ratio.toFixed(2)} (target ≥ 0.50) ${ratio >= 0.5 ? "PASS" : "MISS"}`,
);
const analysisMbps = bytes / MB / analysisSeconds;
console.log(
  `processing alone, no database or queue (parse → chunk → score → scan → fingerprint): ${fmt(analysisMbps, 2)} MB/s, ` +
    `ratio ${(analysisMbps / rawMbps).toFixed(2)} (informational: the most ingest could reach, as documents are analysed one at a time)`,
);
console.log(
  `peak RSS: ${fmt(peakMb, 0)} MB (target < 500 MB) ${peakMb < 500 ? "PASS" : "MISS"}; ` +
    `of which the process with ${databaseName} open, before ingesting: ${fmt(openRss / MB, 0)} MB` +
    (database.kind === "postgres" ? " (the PostgreSQL server's own memory not counted)" : ""),
);
if (failed.length > 0) console.log(`failed documents: ${JSON.stringify(failed.slice(0, 3))}`);
process.exitCode = ratio >= 0.5 && peakMb < 500 && failed.length === 0 ? 0 : 1;
