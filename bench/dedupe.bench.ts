import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../src/core/random.js";
import { openPglite } from "../src/db/client.js";
import { ChunksRepository } from "../src/db/repositories/chunks-repository.js";
import { DocumentsRepository } from "../src/db/repositories/documents-repository.js";
import { ProjectsRepository } from "../src/db/repositories/projects-repository.js";
import { UsersRepository } from "../src/db/repositories/users-repository.js";
import { limitHeapGrowth } from "../src/heap.js";
import { silentLogger } from "../src/logger.js";
import { analyzeDocument } from "../src/services/analyze-document.js";
import { DocumentService } from "../src/services/document-service.js";
import { ProjectService } from "../src/services/project-service.js";

// As the `fineflow` command runs: the figures are the product's.
limitHeapGrowth();

/**
 * Duplicate marking as a project grows to 100k chunks (issue 3: it "must stay fast at 100k chunks: no
 * all-pairs comparison"). Documents of 100 one-section chunks are processed one after another into one
 * project on the embedded database (PGlite on disk), each after the first ten holding 5 exact and 5 near
 * copies (one word changed) of earlier chunks. Reported: chunks/s over the first and the last tenth of
 * the run, and their ratio — the limit is the same pipeline on a nearly empty project, measured in the
 * same run. An all-pairs comparison costs each new chunk in proportion to the project's size: 19 times
 * as much over the last tenth as over the first.
 * Targets: the last tenth at ≥ 50% of the first one's speed; every exact copy and ≥ 95% of the near
 * copies marked, and nothing else. `--chunks N` sets the project's size (default 100,000).
 */
const chunksArg = process.argv.indexOf("--chunks");
const totalChunks = chunksArg > 0 ? Number(process.argv[chunksArg + 1]) : 100_000;
const SECTIONS = 100;
const COPIES = 5; // exact copies per document, and as many near copies
const documentsCount = Math.ceil(totalChunks / SECTIONS);

const next = seededRandom(7);
const vocabulary = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
const word = () => vocabulary[Math.floor(next() * vocabulary.length)] as string;
const body = () => Array.from({ length: 80 }, word).join(" ");
/** Sections written for the first time: copies are made of these only, so each copy has one original. */
const originals: string[] = [];
const planted = { exact: 0, near: 0 };

function documentText(d: number): string {
  const sections: string[] = [];
  for (let s = 0; s < SECTIONS; s++) {
    const copy = d >= 10 && s < 2 * COPIES;
    const original = originals[Math.floor(next() * originals.length)] as string;
    if (copy && s < COPIES) {
      sections.push(original);
      planted.exact++;
    } else if (copy) {
      const words = original.split(" ");
      const at = 10 + Math.floor(next() * (words.length - 10)); // in the body, past the heading
      let replacement = word();
      while (replacement === words[at]) replacement = word();
      words[at] = replacement;
      sections.push(words.join(" "));
      planted.near++;
    } else {
      const text = `# Section ${d}.${s}\n\n${body()}`;
      originals.push(text);
      sections.push(text);
    }
  }
  return sections.join("\n\n");
}

const dir = mkdtempSync(join(tmpdir(), "fineflow-bench-"));
const database = await openPglite(join(dir, "pgdata"));
const projects = new ProjectService(new ProjectsRepository(database.db));
const documents = new DocumentService({
  documents: new DocumentsRepository(database.db),
  chunks: new ChunksRepository(database.db),
  projects,
  enqueue: async () => {}, // processed right below, one at a time, so each document's time is its own
  analyze: analyzeDocument,
  maxDocumentBytes: 50 * 1024 * 1024,
  logger: silentLogger,
});
const user = await new UsersRepository(database.db).insertUser({
  email: "bench@example.com",
  passwordHash: null,
});
const actor = { userId: user.id };
const project = await projects.create(actor, { name: "dedupe" });

async function store(projectId: string, name: string, text: string): Promise<number> {
  const bytes = new TextEncoder().encode(text);
  const started = performance.now();
  const [result] = await documents.ingest(actor, projectId, [{ name, bytes }]);
  await documents.process(actor, result?.documentId ?? "");
  return (performance.now() - started) / 1000;
}

// Compiled and warm before the first tenth is timed, as it is for the last: 10 documents into a project
// of their own.
const warmUp = await projects.create(actor, { name: "warm-up" });
for (let d = 0; d < 10; d++) {
  await store(
    warmUp.id,
    `warm-up-${d}.md`,
    Array.from({ length: SECTIONS }, (_, s) => `# Warm-up ${d}.${s}\n\n${body()}`).join("\n\n"),
  );
}

// Sampled between documents: PGlite's queries resolve as promises back to back, which starve a timer.
let peakRss = process.memoryUsage().rss;
const tenth = Math.max(1, Math.floor(documentsCount / 10));
const windowSeconds = { first: 0, last: 0 };
for (let d = 0; d < documentsCount; d++) {
  const seconds = await store(project.id, `doc-${d}.md`, documentText(d));
  if (d < tenth) windowSeconds.first += seconds;
  if (d >= documentsCount - tenth) windowSeconds.last += seconds;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

const stats = (
  await database.executeSql(
    `
    SELECT count(*)::int AS chunks,
      count(*) FILTER (WHERE c.content_hash = o.content_hash)::int AS exact,
      count(*) FILTER (WHERE c.content_hash <> o.content_hash)::int AS near
    FROM chunks c LEFT JOIN chunks o ON o.id = c.duplicate_of
    WHERE c.project_id = $1`,
    [project.id],
  )
).rows[0] as { chunks: number; exact: number; near: number };
const failed = (await database.executeSql("SELECT count(*)::int AS n FROM documents WHERE status <> 'ready'"))
  .rows[0] as { n: number };
await database.close();
rmSync(dir, { recursive: true, force: true });

const windowChunks = tenth * SECTIONS;
const firstRate = windowChunks / windowSeconds.first;
const lastRate = windowChunks / windowSeconds.last;
const ratio = lastRate / firstRate;
const nearShare = stats.near / planted.near;
const fmt = (n: number, digits = 1) => n.toLocaleString("en-US", { maximumFractionDigits: digits });
console.log(
  `project: ${fmt(stats.chunks, 0)} chunks in ${documentsCount} documents; planted ${fmt(planted.exact, 0)} exact ` +
    `and ${fmt(planted.near, 0)} near copies`,
);
console.log(
  `first tenth (${fmt(windowChunks, 0)} chunks into a nearly empty project): ${fmt(firstRate, 0)} chunks/s`,
);
console.log(
  `last tenth (the project at ${fmt(stats.chunks - windowChunks, 0)} chunks): ${fmt(lastRate, 0)} chunks/s`,
);
console.log(`ratio last / first: ${ratio.toFixed(2)} (target ≥ 0.50) ${ratio >= 0.5 ? "PASS" : "MISS"}`);
const marksPass = stats.exact === planted.exact && nearShare >= 0.95 && stats.near <= planted.near;
console.log(
  `marked: ${fmt(stats.exact, 0)} exact, ${fmt(stats.near, 0)} near (${(nearShare * 100).toFixed(1)}% of the near ` +
    `copies; target: every exact copy, ≥ 95% of the near ones, nothing else) ${marksPass ? "PASS" : "MISS"}`,
);
console.log(`peak RSS between documents: ${fmt(peakRss / 1024 / 1024, 0)} MB (informational)`);
if (failed.n > 0) console.log(`failed documents: ${failed.n}`);
process.exitCode = ratio >= 0.5 && marksPass && failed.n === 0 ? 0 : 1;
