import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { EXPORT_CHUNK_CHARS, toJsonlLine } from "../src/core/export/formats.js";
import type { PairMessage, PairMode } from "../src/core/generation/types.js";
import { DEFAULT_MODEL } from "../src/core/models.js";
import { seededRandom } from "../src/core/random.js";
import { DatasetValidator } from "../src/core/validation/validate-dataset.js";
import { limitHeapGrowth } from "../src/heap.js";

// As the `fineflow` command runs: the figures are the product's.
limitHeapGrowth();

/**
 * Dataset validation and export against the raw o200k tokenizer over the same texts in the same run.
 * Targets (acceptance): ≥ 60% of the tokenizer's throughput, peak RSS under 300 MB whatever the size.
 * Two parts: (1) the core pipeline — validator and JSONL formatting — streaming a generated dataset to a
 * file, where both targets are judged; (2) the same end to end through `DatasetFileService` on PGlite on
 * disk, shown for information: the embedded database alone holds ~250–600 MB once open, and reading a
 * pair back from it costs ~20 µs, about a fifth of validating it, so neither target can hold there.
 * Flags: --pairs N (core, default 200000), --e2e-pairs N (end to end, default 50000).
 */
const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const totalPairs = flag("pairs", 200_000);
const e2ePairs = flag("e2e-pairs", 50_000);
const MB = 1024 * 1024;
const RATIO_TARGET = 0.6;
const RSS_TARGET_MB = 300;
const INSERT_BATCH = 2000;
/** Both sides run this many pairs first, so neither alone pays for JIT compilation and a cold merge cache. */
const WARM_UP = Math.min(2000, totalPairs);
const MODEL = DEFAULT_MODEL;
const SYSTEM_PROMPT =
  "You are Acme's billing support assistant. Answer from the documentation and say so when you do not know.";

let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const sampler = setInterval(sampleRss, 20);

// ---------------------------------------------------------------------------------------------------------
// The dataset: every pair derives from its index alone, so any pass can regenerate the same stream lazily
// and a duplicate can be made by regenerating an earlier pair instead of keeping it.

type Kind = "original" | "exact" | "near" | "conflicting";

interface BenchPair {
  index: number;
  kind: Kind;
  mode: PairMode;
  turns: PairMessage[];
  qualityScore: number;
}

const COMMON = (
  "the a to of and in is for on with as by be this that it from or are can you your when if not will an " +
  "at all any each new one two more most some other than then there which who what how also only after " +
  "before into over under between about because while until again once both same each own just should " +
  "invoice refund plan seat admin workspace export import report dashboard alert webhook key role sso " +
  "login password region backup restore quota usage charge currency tax contract renewal trial upgrade " +
  "team member owner access token limit request response error retry page setting option file folder " +
  "month year day week hour minute time date period cycle payment card bank transfer credit balance due"
).split(" ");
const SYLLABLES =
  "ar bel cor dan eth fin gol hal ix jor kem lum nar ost pev quil ras sen tav ul vor wex".split(" ");
const OPENERS = [
  "How do I",
  "What happens when I",
  "Why does my workspace",
  "Can you explain how to",
  "Is it possible to",
  "Where can I find out how to",
  "What is the right way to",
];
const FOLLOW_UPS = ["And what if", "Does that also apply when", "Thanks. How about when", "What if instead"];

// Real datasets use tens of thousands of distinct words; a small vocabulary would flatter the merge cache.
const vocabulary = (() => {
  const next = seededRandom(42);
  const rare = Array.from({ length: 30_000 }, () =>
    Array.from(
      { length: 2 + Math.floor(next() * 2) },
      () => SYLLABLES[Math.floor(next() * SYLLABLES.length)],
    ).join(""),
  );
  return { common: COMMON, rare };
})();

function textMaker(next: () => number) {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  // Zipf-like: common words most of the time, then rarer made-up words ever less often.
  const word = () =>
    next() < 0.6
      ? pick(vocabulary.common)
      : (vocabulary.rare[Math.floor(vocabulary.rare.length * next() ** 3)] ?? "");
  const words = (count: number) => Array.from({ length: count }, word).join(" ");
  const prose = (count: number) => {
    const sentences: string[] = [];
    for (let left = count; left > 0; ) {
      const length = Math.min(left, 6 + Math.floor(next() * 16));
      const text = words(length);
      sentences.push(`${text.charAt(0).toUpperCase()}${text.slice(1)}.`);
      left -= length;
    }
    return sentences.join(" ");
  };
  return {
    // 20–100 words for a question, 20–300 for an answer, most of them short, as support answers are.
    question: (opener: string) => `${opener} ${words(20 + Math.floor(80 * next() ** 4))}?`,
    answer: () => prose(20 + Math.floor(280 * next() ** 6)),
    word,
    pick,
  };
}

function pairAt(index: number): BenchPair {
  const next = seededRandom(Math.imul(index + 1, 0x9e3779b1) ^ 0x5eed);
  const make = textMaker(next);
  const roll = next();
  const qualityScore = next() < 0.02 ? 0.1 + 0.15 * next() : 0.4 + 0.55 * next();
  const earlier = () => pairAt(Math.floor(next() * index));
  if (index > 0 && roll < 0.03) return { ...earlier(), index, kind: "exact", qualityScore };
  if (index > 0 && roll < 0.05) {
    // One word changed in the last answer. It replaces up to 5 of the pair's 5-word shingles, so only pairs
    // of about 100 words or more stay at or above the validator's 0.9 threshold; shorter ones fall below.
    const source = earlier();
    const last = source.turns.at(-1) as PairMessage;
    const words = last.content.split(" ");
    words[Math.floor(next() * words.length)] = make.word();
    const turns = [...source.turns.slice(0, -1), { role: "assistant" as const, content: words.join(" ") }];
    return { ...source, index, kind: "near", turns, qualityScore };
  }
  if (index > 0 && roll < 0.06) {
    const question = earlier().turns[0] as PairMessage;
    const turns: PairMessage[] = [question, { role: "assistant", content: make.answer() }];
    return { index, kind: "conflicting", mode: "qa", turns, qualityScore };
  }
  const exchanges = next() < 0.15 ? 2 + Math.floor(next() * 2) : 1;
  const turns: PairMessage[] = [];
  for (let i = 0; i < exchanges; i++) {
    turns.push({ role: "user", content: make.question(make.pick(i === 0 ? OPENERS : FOLLOW_UPS)) });
    turns.push({ role: "assistant", content: make.answer() });
  }
  // A few answers leak a real-looking address, which the validator's personal-data scan must report.
  if (next() < 0.005) {
    const last = turns.at(-1) as PairMessage;
    last.content += ` Write to ${make.word()}.${make.word()}@${make.word()}-corp.io for access.`;
  }
  return { index, kind: "original", mode: exchanges > 1 ? "conversation" : "qa", turns, qualityScore };
}

/** Lets the RSS sampler run every so often, also in loops that never wait for I/O. */
async function breathe(index: number): Promise<void> {
  if (index % 1000 !== 999) return;
  sampleRss();
  await yieldToEventLoop();
}

/** The pair as the OpenAI file holds it: what the service hands the validator. */
const openaiMessages = (pair: BenchPair): PairMessage[] => [
  { role: "system", content: SYSTEM_PROMPT },
  ...pair.turns,
];
const pairId = (index: number) => `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, "finish");
}

// ---------------------------------------------------------------------------------------------------------
// Part 1: the core pipeline, streaming.

const dir = mkdtempSync(join(tmpdir(), "fineflow-bench-"));

{
  // In a block, so this validator is garbage before the measured one starts.
  const warmUp = new DatasetValidator({ model: MODEL });
  for (let index = 0; index < WARM_UP; index++) {
    const pair = pairAt(index);
    for (const message of openaiMessages(pair)) countTokens(message.content);
    warmUp.add({ id: pairId(index), line: index + 1, messages: openaiMessages(pair) });
    toJsonlLine("openai", pair.turns, SYSTEM_PROMPT);
  }
}

const coreRssBefore = process.memoryUsage().rss;
peakRss = coreRssBefore;
// Buffered as `fineflow export` writes its file: a 16 KB buffer spent a tenth of the time waiting on drains.
const coreOut = createWriteStream(join(dir, "core.openai.jsonl"), { highWaterMark: 1024 * 1024 });
// The service tells the validator the dataset's size, as here.
const validator = new DatasetValidator({ model: MODEL, expectedPairs: totalPairs });
let coreSeconds = 0;
let coreBytes = 0;
let rawSeconds = 0;
let tokens = 0;
let e2eTokens = 0;
const planted: Record<Kind, number> = { original: 0, exact: 0, near: 0, conflicting: 0 };
let multiTurn = 0;

/** The limit: the tokenizer alone over every message of the pair, system prompt included, as validated. */
function countRaw(pair: BenchPair): void {
  const started = performance.now();
  let pairTokens = 0;
  for (const message of openaiMessages(pair)) pairTokens += countTokens(message.content);
  rawSeconds += (performance.now() - started) / 1000;
  tokens += pairTokens;
  if (pair.index < e2ePairs) e2eTokens += pairTokens;
}

async function validateAndExport(pair: BenchPair): Promise<void> {
  const started = performance.now();
  validator.add({
    id: pairId(pair.index),
    line: pair.index + 1,
    messages: openaiMessages(pair),
    qualityScore: pair.qualityScore,
  });
  const line = `${toJsonlLine("openai", pair.turns, SYSTEM_PROMPT)}\n`;
  pending += line;
  if (pending.length >= EXPORT_CHUNK_CHARS) await flush();
  coreSeconds += (performance.now() - started) / 1000;
  coreBytes += Buffer.byteLength(line);
}

/** Lines go out in chunks, as the export route sends them: one write a line kept every line alive longer. */
let pending = "";
async function flush(): Promise<void> {
  const chunk = pending;
  pending = "";
  await write(coreOut, chunk);
}

// One pair at a time, generated outside the timed work and dropped after it. The tokenizer and the pipeline
// take turns on each pair, so both see the same texts under the same load (the machine is shared); who goes
// first alternates, so neither always meets the merge cache colder.
for (let index = 0; index < totalPairs; index++) {
  const pair = pairAt(index);
  if (index % 2 === 0) countRaw(pair);
  await validateAndExport(pair);
  if (index % 2 === 1) countRaw(pair);
  planted[pair.kind]++;
  if (pair.turns.length > 2) multiTurn++;
  await breathe(index);
}
let started = performance.now();
const coreResult = validator.result();
await flush();
await close(coreOut);
coreSeconds += (performance.now() - started) / 1000;
sampleRss();
const corePeakRss = peakRss;
const footprint = validator.footprint();

// ---------------------------------------------------------------------------------------------------------
// Part 2: end to end through the service, on PGlite on disk as `fineflow` keeps it. Its modules are loaded
// only now: the database, the queue and the service tree add ~100 MB that the core part does not need.

const { sql } = await import("drizzle-orm");
const { createServices } = await import("../src/context.js");
const { openPglite } = await import("../src/db/client.js");
const { UsersRepository } = await import("../src/db/repositories/users-repository.js");
const { silentLogger } = await import("../src/logger.js");
const { Queue } = await import("../src/queue/queue.js");

const database = await openPglite(join(dir, "pgdata"));
const services = createServices(
  database,
  // Never started: validation and export queue nothing.
  new Queue(database, silentLogger, { concurrency: 1 }),
  { maxDocumentBytes: MB, encryptionSecret: "bench-encryption-secret-0123456789abcdef" },
  silentLogger,
);
const user = await new UsersRepository(database.db).insertUser({
  email: "bench@example.com",
  passwordHash: null,
});
const actor = { userId: user.id };
const project = await services.projects.create(actor, { name: "bench" });
const dataset = (
  await database.executeSql(
    `INSERT INTO training_datasets (user_id, project_id, name, format, mode, system_prompt, status)
     VALUES ($1, $2, 'bench', 'openai', 'auto', $3, 'ready') RETURNING id`,
    [user.id, project.id, SYSTEM_PROMPT],
  )
).rows[0] as { id: string };

started = performance.now();
let batch: BenchPair[] = [];
const insertBatch = async () => {
  await database.db.execute(sql`
    INSERT INTO training_pairs (user_id, dataset_id, messages, quality_score, mode)
    SELECT ${user.id}, ${dataset.id}, messages::jsonb, quality_score, mode
    FROM unnest(${sql.param(batch.map((p) => JSON.stringify(p.turns)))}::text[],
      ${sql.param(batch.map((p) => p.qualityScore))}::real[], ${sql.param(batch.map((p) => p.mode))}::text[])
      AS t(messages, quality_score, mode)`);
  batch = [];
};
for (let index = 0; index < e2ePairs; index++) {
  const pair = pairAt(index);
  // Pairs past the core run's count were not tokenized there.
  if (index >= totalPairs) {
    for (const message of openaiMessages(pair)) e2eTokens += countTokens(message.content);
  }
  batch.push(pair);
  if (batch.length === INSERT_BATCH) await insertBatch();
  await breathe(index);
}
if (batch.length > 0) await insertBatch();
const insertSeconds = (performance.now() - started) / 1000;

const pgliteRss = process.memoryUsage().rss;
peakRss = pgliteRss;
started = performance.now();
const e2eResult = await services.files.validate(actor, dataset.id, { model: MODEL });
const validateSeconds = (performance.now() - started) / 1000;
started = performance.now();
const { lines } = await services.files.export(actor, dataset.id, { format: "openai", model: MODEL });
const e2eOut = createWriteStream(join(dir, "e2e.openai.jsonl"), { highWaterMark: 1024 * 1024 });
let exportedLines = 0;
for await (const line of lines) {
  exportedLines++;
  await write(e2eOut, line);
}
await close(e2eOut);
const exportSeconds = (performance.now() - started) / 1000;
clearInterval(sampler);
sampleRss();
const e2ePeakRss = peakRss;
await database.close();
rmSync(dir, { recursive: true, force: true });

// ---------------------------------------------------------------------------------------------------------

const fmt = (n: number, digits = 1) => n.toLocaleString("en-US", { maximumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / MB, 0)} MB`;
const flagged = (result: typeof coreResult, code: string) =>
  result.issues.find((issue) => issue.code === code)?.pairIds.length ?? 0;
const rawRate = tokens / rawSeconds;
const coreRate = tokens / coreSeconds;
const coreRatio = coreRate / rawRate;
const e2eSeconds = validateSeconds + exportSeconds;
const e2eRatio = e2eTokens / e2eSeconds / rawRate;
const corePeakMb = corePeakRss / MB;
const verdict = (pass: boolean) => (pass ? "PASS" : "MISS");

console.log(
  `dataset: ${fmt(totalPairs, 0)} pairs (${fmt(multiTurn, 0)} multi-turn; planted ${fmt(planted.exact, 0)} exact and ` +
    `${fmt(planted.near, 0)} near duplicates, ${fmt(planted.conflicting, 0)} conflicting answers), ` +
    `${fmt(tokens / 1e6, 2)} M o200k tokens, ${mb(coreBytes)} as OpenAI JSONL`,
);
console.log(`raw o200k tokenizer: ${fmt(rawRate / 1e6, 2)} M tokens/s (${fmt(rawSeconds)} s)`);
console.log(
  `core validate + export, streamed to a file: ${fmt(totalPairs / coreSeconds, 0)} pairs/s, ` +
    `${fmt(coreRate / 1e6, 2)} M tokens/s (${fmt(coreSeconds)} s); flagged ${fmt(flagged(coreResult, "exact_duplicate"), 0)} exact, ` +
    `${fmt(flagged(coreResult, "near_duplicate"), 0)} near duplicates, ${fmt(flagged(coreResult, "conflicting_answers"), 0)} conflicting, ` +
    `${fmt(flagged(coreResult, "personal_data"), 0)} with personal data, ${fmt(flagged(coreResult, "low_quality"), 0)} low quality`,
);
console.log(
  `ratio core / raw tokenizer: ${coreRatio.toFixed(2)} (target ≥ ${RATIO_TARGET.toFixed(2)}) ${verdict(coreRatio >= RATIO_TARGET)}`,
);
console.log(
  `peak RSS core: ${mb(corePeakRss)} (target < ${RSS_TARGET_MB} MB) ${verdict(corePeakMb < RSS_TARGET_MB)}; ` +
    `before starting: ${mb(coreRssBefore)}; the validator holds ${mb(footprint.bytes)} ` +
    `(${fmt(footprint.bytes / totalPairs, 0)} bytes a pair)`,
);
console.log(
  `end to end on PGlite: ${fmt(e2ePairs, 0)} pairs (${fmt(e2eTokens / 1e6, 2)} M tokens, inserted in ${fmt(insertSeconds)} s); ` +
    `validate ${fmt(validateSeconds)} s, export ${fmt(exportSeconds)} s (${fmt(exportedLines, 0)} lines; it validates as it writes, ` +
    `to leave out invalid pairs) = ${fmt(e2ePairs / e2eSeconds, 0)} pairs/s, ${fmt(e2eTokens / e2eSeconds / 1e6, 2)} M tokens/s`,
);
console.log(
  `ratio end to end / raw tokenizer: ${e2eRatio.toFixed(2)} (informational: reading the pairs from the database ` +
    "and validating them again at export cost more than the core pipeline's margin)",
);
console.log(
  `peak RSS end to end, validate + export: ${mb(e2ePeakRss)} (informational); ` +
    `with PGlite open and holding the pairs, before validating: ${mb(pgliteRss)}`,
);
const complete = e2eResult.stats.totalPairs === e2ePairs && coreResult.stats.totalPairs === totalPairs;
if (!complete) console.log("incomplete: the validator did not see every pair");
process.exitCode = coreRatio >= RATIO_TARGET && corePeakMb < RSS_TARGET_MB && complete ? 0 : 1;
