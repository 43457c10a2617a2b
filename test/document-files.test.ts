import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DOCUMENT_FILE_PART_BYTES,
  DocumentsRepository,
  type NewDocument,
} from "../src/db/repositories/documents-repository.js";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database.js";

let database: TestDatabase;
let documents: DocumentsRepository;
let actor: { userId: string };
let projectId: string;

const one = async (sql: string, values: unknown[]) =>
  (await database.executeSql(sql, values)).rows[0]?.id as string;

beforeAll(async () => {
  database = await createTestDatabase();
  documents = new DocumentsRepository(database.db);
  actor = { userId: await one("INSERT INTO users (email) VALUES ($1) RETURNING id", ["files@example.com"]) };
  projectId = await one("INSERT INTO projects (user_id, name) VALUES ($1, 'p') RETURNING id", [actor.userId]);
});
afterAll(() => database.close());

const upload = (name: string, sizeBytes: number): NewDocument => ({
  projectId,
  name,
  type: "text",
  sizeBytes,
  contentHash: name,
  chunkTargetTokens: 512,
  chunkOverlapTokens: 50,
  duplicateThreshold: 0.8,
});

const partSizes = async (documentId: string) =>
  (
    await database.executeSql(
      "SELECT part, length(bytes) AS size FROM document_files WHERE document_id = $1 ORDER BY part",
      [documentId],
    )
  ).rows.map((row) => [row.part, row.size]);

/** What processing is given for the document, as a Buffer (pg returns Buffers, PGlite Uint8Arrays). */
const claimedBytes = async (documentId: string) => {
  const claimed = await documents.claim(actor, documentId);
  expect(claimed?.status).toBe("processing");
  const bytes = claimed && (await documents.bytesOf(claimed));
  return Buffer.from(bytes ?? [Number.NaN]);
};

describe("an upload's stored bytes", () => {
  it("are kept in parts and given back to processing byte for byte", async () => {
    const bytes = new Uint8Array(2.5 * DOCUMENT_FILE_PART_BYTES);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 12)) % 256;
    const { document } = await documents.insertIfNew(actor, upload("big.txt", bytes.length), bytes);

    expect(await partSizes(document.id)).toEqual([
      [0, DOCUMENT_FILE_PART_BYTES],
      [1, DOCUMENT_FILE_PART_BYTES],
      [2, DOCUMENT_FILE_PART_BYTES / 2],
    ]);
    expect((await claimedBytes(document.id)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("are one empty part for an empty file, which processing then fails as empty rather than skipping", async () => {
    const { document } = await documents.insertIfNew(actor, upload("empty.txt", 0), new Uint8Array());
    expect(await partSizes(document.id)).toEqual([[0, 0]]);
    expect([...(await claimedBytes(document.id))]).toEqual([]);
  });

  it("are stored when a file refused before (over the size limit, say) is sent again and taken", async () => {
    const bytes = new Uint8Array(DOCUMENT_FILE_PART_BYTES + 10).fill(7);
    const refused = await documents.insertIfNew(
      actor,
      { ...upload("retried.txt", bytes.length), error: "over the limit" },
      undefined,
    );
    expect(refused.document.status).toBe("failed");
    expect(await partSizes(refused.document.id)).toEqual([]);

    const retried = await documents.insertIfNew(actor, upload("retried.txt", bytes.length), bytes);
    expect(retried).toMatchObject({
      created: true,
      document: { id: refused.document.id, status: "pending" },
    });
    expect(await partSizes(refused.document.id)).toEqual([
      [0, DOCUMENT_FILE_PART_BYTES],
      [1, 10],
    ]);
    expect((await claimedBytes(refused.document.id)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("stored before they were kept in parts (one row, part 0 since migration 0010) are read as they were", async () => {
    const bytes = new Uint8Array(1.5 * DOCUMENT_FILE_PART_BYTES).fill(3);
    const { document } = await documents.insertIfNew(actor, upload("old.txt", bytes.length), undefined);
    await database.executeSql("INSERT INTO document_files (document_id, bytes) VALUES ($1, $2)", [
      document.id,
      bytes,
    ]);
    expect((await claimedBytes(document.id)).equals(Buffer.from(bytes))).toBe(true);
  });
});
