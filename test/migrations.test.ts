import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPglite } from "../src/db/client.js";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database.js";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

const columnsOf = async (table: string) =>
  (
    await database.executeSql(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
      [table],
    )
  ).rows.map((row) => row.column_name);

describe(`migrations on ${process.env.DATABASE_URL ? "PostgreSQL" : "PGlite"}`, () => {
  it("create the whole domain's tables", async () => {
    const { rows } = await database.executeSql(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        "users",
        "sessions",
        "login_links",
        "api_tokens",
        "projects",
        "documents",
        "document_files",
        "chunks",
        "training_datasets",
        "generation_tasks",
        "training_pairs",
        "training_jobs",
        "training_job_events",
        "user_api_keys",
        "spend_ledger",
      ]),
    );
  });

  it("use the seed's column names", async () => {
    expect(await columnsOf("chunks")).toEqual(
      expect.arrayContaining(["is_duplicate", "duplicate_of", "quality_score"]),
    );
    expect(await columnsOf("training_jobs")).toEqual(
      expect.arrayContaining([
        "provider_job_id",
        "progress_percent",
        "current_step",
        "status",
        "fine_tuned_model",
      ]),
    );
    expect(await columnsOf("projects")).toEqual(
      expect.arrayContaining(["monthly_budget_usd", "budget_enforcement"]),
    );
    expect(await columnsOf("user_api_keys")).toEqual(
      expect.arrayContaining(["key_encrypted", "user_id", "provider"]),
    );
  });

  it("enforce ownership and statuses in the database too", async () => {
    await expect(
      database.executeSql("INSERT INTO projects (user_id, name) VALUES (gen_random_uuid(), 'orphan')"),
    ).rejects.toThrow(/foreign key/);
  });

  it("keep a chunk in its document's project and owner, and delete it with any of them", async () => {
    const one = async (sql: string, values: unknown[]) =>
      (await database.executeSql(sql, values)).rows[0]?.id as string;
    const user = await one("INSERT INTO users (email) VALUES ($1) RETURNING id", ["fk@example.com"]);
    const project = async (name: string) =>
      one("INSERT INTO projects (user_id, name) VALUES ($1, $2) RETURNING id", [user, name]);
    const [home, other] = [await project("home"), await project("other")];
    const document = await one(
      `INSERT INTO documents (user_id, project_id, name, type, size_bytes, content_hash, chunk_target_tokens,
         chunk_overlap_tokens, duplicate_threshold) VALUES ($1, $2, 'a.md', 'md', 1, 'h', 512, 50, 0.8) RETURNING id`,
      [user, home],
    );
    const insertChunk = (projectId: string, index: number) =>
      database.executeSql(
        `INSERT INTO chunks (user_id, project_id, document_id, chunk_index, text, token_count, quality_score,
           quality_breakdown, content_hash) VALUES ($1, $2, $3, $4, 'text', 1, 0.5, '{}', 'c')`,
        [user, projectId, document, index],
      );
    await expect(insertChunk(other, 0)).rejects.toThrow(/chunks_document_fk/);
    await insertChunk(home, 0);
    await database.executeSql("DELETE FROM users WHERE id = $1", [user]);
    const { rows } = await database.executeSql(
      "SELECT count(*)::int AS n FROM chunks WHERE document_id = $1",
      [document],
    );
    expect(rows[0]?.n).toBe(0);
  });

  it("store a chunk's text as it is up to a page, and compress only longer ones", async () => {
    const one = async (sql: string, values: unknown[]) =>
      (await database.executeSql(sql, values)).rows[0]?.id as string;
    const user = await one("INSERT INTO users (email) VALUES ($1) RETURNING id", ["toast@example.com"]);
    const project = await one("INSERT INTO projects (user_id, name) VALUES ($1, 'p') RETURNING id", [user]);
    const document = await one(
      `INSERT INTO documents (user_id, project_id, name, type, size_bytes, content_hash, chunk_target_tokens,
         chunk_overlap_tokens, duplicate_threshold) VALUES ($1, $2, 'a.md', 'md', 1, 'h', 512, 50, 0.8) RETURNING id`,
      [user, project],
    );
    const sentence = "Refunds reach the card they were paid with within five working days. ";
    const texts = [sentence.repeat(60), sentence.repeat(400)]; // ~4 KB, the size of a long chunk; ~28 KB
    for (const [index, text] of texts.entries()) {
      await database.executeSql(
        `INSERT INTO chunks (user_id, project_id, document_id, chunk_index, text, token_count, quality_score,
           quality_breakdown, content_hash) VALUES ($1, $2, $3, $4, $5, 1, 0.5, '{}', 'c')`,
        [user, project, document, index, text],
      );
    }
    const { rows } = await database.executeSql(
      `SELECT text, pg_column_compression(text) AS compression FROM chunks
       WHERE document_id = $1 ORDER BY chunk_index`,
      [document],
    );
    expect(rows.map((r) => r.text)).toEqual(texts);
    expect(rows.map((r) => r.compression)).toEqual([null, "pglz"]);
    await database.executeSql("DELETE FROM users WHERE id = $1", [user]);
  });

  it("give documents processed before 0009 their duplicate and flagged chunk counts", async () => {
    const one = async (sql: string, values: unknown[]) =>
      (await database.executeSql(sql, values)).rows[0]?.id as string;
    const user = await one("INSERT INTO users (email) VALUES ($1) RETURNING id", ["counts@example.com"]);
    const project = await one("INSERT INTO projects (user_id, name) VALUES ($1, 'p') RETURNING id", [user]);
    const document = async (hash: string) =>
      one(
        `INSERT INTO documents (user_id, project_id, name, type, size_bytes, content_hash, status,
           chunk_target_tokens, chunk_overlap_tokens, duplicate_threshold)
         VALUES ($1, $2, 'a.md', 'md', 1, $3, 'ready', 512, 50, 0.8) RETURNING id`,
        [user, project, hash],
      );
    const [counted, empty] = [await document("h1"), await document("h2")];
    for (const [index, duplicate, flagged] of [
      [0, false, false],
      [1, true, false],
      [2, true, true],
    ] as const) {
      await database.executeSql(
        `INSERT INTO chunks (user_id, project_id, document_id, chunk_index, text, token_count, quality_score,
           quality_breakdown, content_hash, is_duplicate, injection_flagged)
         VALUES ($1, $2, $3, $4, 'text', 1, 0.5, '{}', 'c', $5, $6)`,
        [user, project, counted, index, duplicate, flagged],
      );
    }
    const migration = await readFile(
      new URL("../src/db/migrations/0009_document-chunk-counts.sql", import.meta.url),
      "utf8",
    );
    const backfill = migration.split("--> statement-breakpoint").at(-1) ?? "";
    expect(backfill).toMatch(/UPDATE "documents"/);
    await database.executeSql(backfill);
    const { rows } = await database.executeSql(
      "SELECT id, duplicate_chunks, flagged_chunks FROM documents WHERE user_id = $1 ORDER BY content_hash",
      [user],
    );
    expect(rows).toEqual([
      { id: counted, duplicate_chunks: 2, flagged_chunks: 1 },
      { id: empty, duplicate_chunks: 0, flagged_chunks: 0 },
    ]);
    await database.executeSql("DELETE FROM users WHERE id = $1", [user]);
  });

  it("bring a stored overlap of half a chunk under half before refusing one from 0015 on", async () => {
    const user = (
      await database.executeSql("INSERT INTO users (email) VALUES ($1) RETURNING id", ["overlap@example.com"])
    ).rows[0]?.id;
    const project = (target: number, overlap: number) =>
      database.executeSql(
        `INSERT INTO projects (user_id, name, chunk_target_tokens, chunk_overlap_tokens)
         VALUES ($1, $2, $3, $4) RETURNING id`,
        [user, `p${target}-${overlap}`, target, overlap],
      );
    // As a database before 0015 could hold, from two changes at once.
    await database.executeSql('ALTER TABLE "projects" DROP CONSTRAINT "projects_chunk_overlap_check"');
    await project(64, 40);
    await project(65, 20);
    const migration = await readFile(
      new URL("../src/db/migrations/0015_project-overlap-check.sql", import.meta.url),
      "utf8",
    );
    for (const statement of migration.split("--> statement-breakpoint")) await database.executeSql(statement);
    const { rows } = await database.executeSql(
      "SELECT chunk_target_tokens, chunk_overlap_tokens FROM projects WHERE user_id = $1 ORDER BY 1",
      [user],
    );
    expect(rows).toEqual([
      { chunk_target_tokens: 64, chunk_overlap_tokens: 31 },
      { chunk_target_tokens: 65, chunk_overlap_tokens: 20 },
    ]);
    await expect(project(64, 32)).rejects.toMatchObject({ code: "23514" });
    await database.executeSql("DELETE FROM users WHERE id = $1", [user]);
  });

  it("write stored document names composed (NFC) from 0016 on, leaving a name that would clash as it is", async () => {
    const one = async (sql: string, values: unknown[]) =>
      (await database.executeSql(sql, values)).rows[0]?.id as string;
    const user = await one("INSERT INTO users (email) VALUES ($1) RETURNING id", ["nfc@example.com"]);
    const project = await one("INSERT INTO projects (user_id, name) VALUES ($1, 'p') RETURNING id", [user]);
    const document = (name: string, hash: string) =>
      one(
        `INSERT INTO documents (user_id, project_id, name, type, size_bytes, content_hash, chunk_target_tokens,
           chunk_overlap_tokens, duplicate_threshold) VALUES ($1, $2, $3, 'md', 1, $4, 512, 50, 0.8) RETURNING id`,
        [user, project, name, hash],
      );
    const [composed, decomposed] = ["caf\u00e9", "cafe\u0301"];
    const renamed = await document(`${decomposed}.md`, "menu");
    // The same name and content stored both ways, as two documents (before 0016, uploads were not composed).
    const twin = await document(`${decomposed}-twin.md`, "wine");
    await document(`${composed}-twin.md`, "wine");
    const migration = await readFile(
      new URL("../src/db/migrations/0016_document-names-nfc.sql", import.meta.url),
      "utf8",
    );
    await database.executeSql(migration);
    const { rows } = await database.executeSql("SELECT id, name FROM documents WHERE user_id = $1", [user]);
    expect(rows).toHaveLength(3);
    expect(rows).toEqual(
      expect.arrayContaining([
        { id: twin, name: `${decomposed}-twin.md` },
        { id: renamed, name: `${composed}.md` },
        { id: expect.any(String), name: `${composed}-twin.md` },
      ]),
    );
    await database.executeSql("DELETE FROM users WHERE id = $1", [user]);
  });

  it("give each stored document its project's chunking from 0017 on, which a document then keeps", async () => {
    const one = async (sql: string, values: unknown[]) =>
      (await database.executeSql(sql, values)).rows[0]?.id as string;
    const user = await one("INSERT INTO users (email) VALUES ($1) RETURNING id", ["chunking@example.com"]);
    const project = await one(
      `INSERT INTO projects (user_id, name, chunk_target_tokens, chunk_overlap_tokens, duplicate_threshold)
       VALUES ($1, 'p', 256, 20, 0.9) RETURNING id`,
      [user],
    );
    // The documents table as it was before 0017.
    await database.executeSql(`
      ALTER TABLE documents DROP CONSTRAINT documents_project_name_hash_chunking_key;
      ALTER TABLE documents DROP COLUMN chunk_target_tokens, DROP COLUMN chunk_overlap_tokens,
        DROP COLUMN duplicate_threshold;
      ALTER TABLE documents ADD CONSTRAINT documents_project_name_hash_key UNIQUE (project_id, name, content_hash)`);
    const document = await one(
      `INSERT INTO documents (user_id, project_id, name, type, size_bytes, content_hash)
       VALUES ($1, $2, 'a.md', 'md', 1, 'h') RETURNING id`,
      [user, project],
    );
    const migration = await readFile(
      new URL("../src/db/migrations/0017_document-chunking.sql", import.meta.url),
      "utf8",
    );
    for (const statement of migration.split("--> statement-breakpoint")) await database.executeSql(statement);
    const { rows } = await database.executeSql(
      "SELECT chunk_target_tokens, chunk_overlap_tokens, duplicate_threshold FROM documents WHERE id = $1",
      [document],
    );
    expect(rows).toEqual([{ chunk_target_tokens: 256, chunk_overlap_tokens: 20, duplicate_threshold: 0.9 }]);
    // The project's chunking changes; the document keeps what it was processed with.
    await database.executeSql("UPDATE projects SET chunk_target_tokens = 512 WHERE id = $1", [project]);
    const kept = await database.executeSql("SELECT chunk_target_tokens FROM documents WHERE id = $1", [
      document,
    ]);
    expect(kept.rows).toEqual([{ chunk_target_tokens: 256 }]);
    await database.executeSql("DELETE FROM users WHERE id = $1", [user]);
  });

  it("store bytes and read them back exactly, every byte value and megabytes of them", async () => {
    const bytes = new Uint8Array(2 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    const { rows } = await database.executeSql("SELECT $1::bytea AS b, length($1::bytea) AS n", [bytes]);
    expect(rows[0]?.n).toBe(bytes.length);
    expect(Buffer.from(rows[0]?.b as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  });
});

// Creating a data directory runs initdb in a child process and each open loads PGlite: ~8 s alone, and
// 20–30 s with the rest of the suite sharing two cores, so these get the on-disk tests' allowance.
describe("the embedded database on disk", { timeout: 120_000 }, () => {
  it("keeps its data across a restart and migrates an existing directory without change", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fineflow-pglite-"));
    try {
      const first = await openPglite(dir);
      await first.executeSql("INSERT INTO users (email) VALUES ('persist@example.com')");
      await first.close();
      const second = await openPglite(dir);
      const { rows } = await second.executeSql("SELECT email FROM users");
      await second.close();
      expect(rows).toEqual([{ email: "persist@example.com" }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("says which directory it could not create the database in", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fineflow-pglite-"));
    try {
      const blocker = join(dir, "a-file");
      await writeFile(blocker, "not a directory");
      await expect(openPglite(join(blocker, "pgdata"))).rejects.toThrow(
        `creating the database in ${join(blocker, "pgdata")} failed`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
