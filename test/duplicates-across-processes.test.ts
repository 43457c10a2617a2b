import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MINHASH_SCHEME_VERSION, minhashSignature, signatureToBytes } from "../src/core/near-duplicates.js";
import { ChunksRepository } from "../src/db/repositories/chunks-repository.js";
import { DocumentsRepository } from "../src/db/repositories/documents-repository.js";
import { ProjectsRepository } from "../src/db/repositories/projects-repository.js";
import { UsersRepository } from "../src/db/repositories/users-repository.js";
import { silentLogger } from "../src/logger.js";
import { analyzeDocument } from "../src/services/analyze-document.js";
import { DocumentService } from "../src/services/document-service.js";
import { ProjectService } from "../src/services/project-service.js";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database.js";

// Each FineFlow process keeps its own in-memory index of a project's kept chunks; two services over one
// database are two such processes (two `fineflow worker`s on PostgreSQL).
let database: TestDatabase;
let actor: { userId: string };
let projectId: string;
let first: DocumentService;
let second: DocumentService;

function worker(batch?: number): DocumentService {
  const projects = new ProjectService(new ProjectsRepository(database.db));
  return new DocumentService({
    documents: new DocumentsRepository(database.db),
    chunks: new ChunksRepository(database.db, batch),
    projects,
    enqueue: async () => {}, // each test processes what it ingests, in the process it chooses
    analyze: analyzeDocument,
    maxDocumentBytes: 1024 * 1024,
    logger: silentLogger,
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  const user = await new UsersRepository(database.db).insertUser({
    email: "two-workers@example.com",
    passwordHash: null,
  });
  actor = { userId: user.id };
  projectId = (await new ProjectService(new ProjectsRepository(database.db)).create(actor, { name: "p" })).id;
  first = worker();
  second = worker();
});
afterAll(() => database.close());

const refunds = Array.from(
  { length: 12 },
  (_, i) => `Refund request ${i + 1} is checked against the order, its payment and the return label first.`,
).join(" ");

/** Uploads a document to `project` and processes it in the process `by`; its chunks. */
async function store(by: DocumentService, project: string, name: string, text: string) {
  const [result] = await by.ingest(actor, project, [{ name, bytes: new TextEncoder().encode(text) }]);
  if (!result) throw new Error("nothing ingested");
  await by.process(actor, result.documentId);
  const { chunks } = await by.listChunks(actor, {
    projectId: project,
    documentId: result.documentId,
    limit: 50,
    offset: 0,
  });
  return chunks;
}

async function ingest(by: DocumentService, name: string, text: string) {
  const chunks = await store(by, projectId, name, text);
  return chunks.map((c) => ({ id: c.id, duplicateOf: c.duplicateOf }));
}

/** As an older MinHash scheme left a chunk: a signature that matches nothing the current one makes. */
const OLDER_SIGNATURE = signatureToBytes(minhashSignature("an older scheme's permutations of these words"));

describe("duplicates found by several processes over one database", () => {
  it("match chunks another process stored, and chunks another process promoted", async () => {
    const [original] = await ingest(first, "refunds.md", refunds);
    expect(original?.duplicateOf).toBeNull();

    // The second process has never seen this project: it reads what the first one stored.
    const [copy] = await ingest(second, "refunds-copy.md", `${refunds}\n`);
    expect(copy?.duplicateOf).toBe(original?.id);
    const near = await ingest(second, "refunds-edited.md", refunds.replace("request 3 ", "request three "));
    expect(near.map((c) => c.duplicateOf)).toEqual([original?.id]);

    // The first process stores something else, so its index has read past the copies' rows.
    await ingest(first, "shipping.md", refunds.replaceAll("Refund", "Shipping"));

    // The second process deletes the original: its first copy becomes the kept chunk …
    const documents = await second.list(actor, projectId);
    await second.delete(actor, documents.find((d) => d.name === "refunds.md")?.id ?? "");
    // … and the first process, whose index still names the deleted original, matches the promoted copy.
    const later = await ingest(first, "refunds-later.md", refunds.replace("request 5 ", "request five "));
    expect(later.map((c) => c.duplicateOf)).toEqual([copy?.id]);
  });

  it("keep a chunk the other process's index has never seen unique until it is repeated", async () => {
    const text = refunds.replaceAll("Refund", "Exchange").replaceAll("order", "invoice");
    const [kept] = await ingest(second, "exchanges.md", text);
    expect(kept?.duplicateOf).toBeNull();
    const [again] = await ingest(first, "exchanges-again.md", `${text}\n\n`);
    expect(again?.duplicateOf).toBe(kept?.id);
  });

  it("store a document once when two deliveries of its job run at once", async () => {
    const text = refunds.replaceAll("Refund", "Return");
    const [result] = await first.ingest(actor, projectId, [
      { name: "twice.md", bytes: new TextEncoder().encode(text) },
    ]);
    const id = result?.documentId ?? "";
    await Promise.all([first.process(actor, id), second.process(actor, id)]);
    const document = await first.get(actor, id);
    expect(document).toMatchObject({ status: "ready", error: null });
    const { total } = await first.listChunks(actor, { projectId, documentId: id, limit: 50, offset: 0 });
    expect(total).toBe(document.chunkCount);
  });

  it("store a long document's chunks in several statements, every one of them, in order", async () => {
    const projects = new ProjectService(new ProjectsRepository(database.db));
    const small = (
      await projects.create(actor, { name: "batches", chunkTargetTokens: 32, chunkOverlapTokens: 8 })
    ).id;
    const batched = worker(3);
    const text = Array.from(
      { length: 10 },
      (_, i) => `# Part ${i + 1}\n\n${refunds.replaceAll("Refund", `Claim type ${i + 1}`)}`,
    ).join("\n\n");
    const stored = async (name: string, body: string) => {
      const [result] = await batched.ingest(actor, small, [{ name, bytes: new TextEncoder().encode(body) }]);
      await batched.process(actor, result?.documentId ?? "");
      const document = await batched.get(actor, result?.documentId ?? "");
      const { total, chunks } = await batched.listChunks(actor, {
        projectId: small,
        documentId: document.id,
        limit: 500,
        offset: 0,
      });
      return { document, total, chunks };
    };
    const first = await stored("claims.md", text);
    expect(first.document.status).toBe("ready");
    expect(first.total).toBeGreaterThan(9); // more than three statements' worth
    expect(first.total).toBe(first.document.chunkCount);
    expect(first.chunks.map((c) => c.chunkIndex)).toEqual([...Array(first.total).keys()]);
    // Every batch's chunks are in the process's index: a copy matches each of them.
    const copy = await stored("claims-copy.md", `${text}\n`);
    expect(copy.chunks.map((c) => c.duplicateOf)).toEqual(first.chunks.map((c) => c.id));
    expect(copy.document.duplicateChunks).toBe(first.total);
  });

  it("follow a change of the project's duplicate threshold", async () => {
    const projects = new ProjectService(new ProjectsRepository(database.db));
    const text = refunds.replaceAll("Refund", "Warranty");
    // Every other sentence reworded: about half of the five-word shingles survive.
    const edit = (word: string) =>
      text
        .split(". ")
        .map((sentence, i) => (i % 2 === 0 ? sentence.replace("is checked against", word) : sentence))
        .join(". ");
    const [original] = await ingest(first, "warranty.md", text);
    const [loose] = await ingest(first, "warranty-loose.md", edit("gets compared with"));
    expect(loose?.duplicateOf).toBeNull();

    await projects.update(actor, projectId, { duplicateThreshold: 0.5 });
    const [looser] = await ingest(first, "warranty-looser.md", edit("is matched with"));
    expect([original?.id, loose?.id]).toContain(looser?.duplicateOf);
  });

  it("recompute signatures an older FineFlow stored before comparing with them", async () => {
    const projects = new ProjectService(new ProjectsRepository(database.db));
    const upgraded = (await projects.create(actor, { name: "upgraded" })).id;
    // Seven top-level sections, one chunk each.
    const kinds = ["Credit note", "Voucher", "Gift card", "Chargeback", "Store credit", "Rebate", "Deposit"];
    const text = kinds.map((kind) => `# ${kind}s\n\n${refunds.replaceAll("Refund", kind)}`).join("\n\n");
    const stored = (by: DocumentService, name: string, body: string) => store(by, upgraded, name, body);
    const originals = await stored(first, "credits.md", text);
    expect(originals).toHaveLength(kinds.length);
    await database.executeSql("UPDATE chunks SET minhash = $1, minhash_scheme = 1 WHERE project_id = $2", [
      OLDER_SIGNATURE,
      upgraded,
    ]);

    // A process that has not indexed the project yet, as after an upgrade, re-signing three at a time.
    const edited = await stored(
      worker(3),
      "credits-edited.md",
      text.replace("Voucher request 3 ", "Voucher request three "),
    );
    expect(edited.map((c) => c.duplicateOf)).toEqual(originals.map((c) => c.id));
    expect(edited[1]?.duplicateSimilarity).toBeLessThan(1); // the near copy, matched by its signature
    const { rows } = await database.executeSql(
      "SELECT text, minhash, minhash_scheme FROM chunks WHERE document_id = $1 ORDER BY chunk_index",
      [originals[0]?.documentId],
    );
    // node-postgres gives bytea as a Buffer, PGlite as a plain Uint8Array.
    expect(rows.map((row) => ({ ...row, minhash: new Uint8Array(row.minhash as Uint8Array) }))).toEqual(
      originals.map((c) => ({
        text: c.text,
        minhash: signatureToBytes(minhashSignature(c.text)),
        minhash_scheme: MINHASH_SCHEME_VERSION,
      })),
    );
  });

  it("re-sign what an older FineFlow stores beside them, after they indexed the project", async () => {
    const projects = new ProjectService(new ProjectsRepository(database.db));
    const rolling = (await projects.create(actor, { name: "rolling upgrade" })).id;
    const stored = (by: DocumentService, name: string, body: string) => store(by, rolling, name, body);
    const upgraded = worker();
    await stored(upgraded, "shipping.md", refunds.replaceAll("Refund", "Shipping"));
    // Another process stores a document after this one indexed the project, as an older version of
    // FineFlow still running during a rolling upgrade does: with its own scheme's signatures.
    const [original] = await stored(worker(), "refunds.md", refunds);
    await database.executeSql("UPDATE chunks SET minhash = $1, minhash_scheme = 1 WHERE id = $2", [
      OLDER_SIGNATURE,
      original?.id,
    ]);

    const [near] = await stored(
      upgraded,
      "refunds-edited.md",
      refunds.replace("request 3 ", "request three "),
    );
    expect(near?.duplicateOf).toBe(original?.id);
    const { rows } = await database.executeSql("SELECT minhash_scheme FROM chunks WHERE id = $1", [
      original?.id,
    ]);
    expect(rows).toEqual([{ minhash_scheme: MINHASH_SCHEME_VERSION }]);
  });

  it("re-sign a candidate whose signature was made old again behind the index's back", async () => {
    const projects = new ProjectService(new ProjectsRepository(database.db));
    const project = (await projects.create(actor, { name: "signed back" })).id;
    const upgraded = worker();
    const [original] = await store(upgraded, project, "refunds.md", refunds);
    // An older FineFlow's upgrade pass signs the row its own way again; its seq does not change, so the
    // index that already holds it does not read it again.
    await database.executeSql("UPDATE chunks SET minhash = $1, minhash_scheme = 1 WHERE id = $2", [
      OLDER_SIGNATURE,
      original?.id,
    ]);

    const edited = refunds.replace("request 3 ", "request three ");
    const [near] = await store(upgraded, project, "refunds-edited.md", edited);
    expect(near?.duplicateOf).toBe(original?.id);
    expect(near?.duplicateSimilarity).toBeLessThan(1);
    const { rows } = await database.executeSql("SELECT minhash_scheme FROM chunks WHERE id = $1", [
      original?.id,
    ]);
    expect(rows).toEqual([{ minhash_scheme: MINHASH_SCHEME_VERSION }]);
  });
});
