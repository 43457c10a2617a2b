import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { openRuntime } from "../src/context.js";
import { type Database, wrapPglite } from "../src/db/client.js";
import { vacuumWhereDue } from "../src/db/maintenance.js";
import { UsersRepository } from "../src/db/repositories/users-repository.js";
import { silentLogger } from "../src/logger.js";

// Always the embedded database, whatever DATABASE_URL says: on a PostgreSQL server autovacuum does this.
describe("vacuumWhereDue on the embedded database", () => {
  let lite: PGlite;
  let database: Database;
  beforeAll(async () => {
    lite = await PGlite.create();
    database = await wrapPglite(lite);
  });
  afterAll(() => lite.close());

  const rowsOf = async (sql: string) => (await database.executeSql(sql)).rows;

  it("leaves alone tables with few changes", async () => {
    await database.executeSql("CREATE TABLE notes (id int PRIMARY KEY, body text)");
    // 45 rows changed: under PostgreSQL's threshold of 50 for either.
    await database.executeSql("INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 30) g");
    await database.executeSql("DELETE FROM notes WHERE id <= 15");
    expect(await vacuumWhereDue(database)).toEqual({ vacuumed: [], analyzed: [] });
  });

  it("analyses a table once enough of it changed, so that queries are planned with statistics", async () => {
    await database.executeSql("CREATE TABLE items (id int PRIMARY KEY, kind text)");
    await database.executeSql(
      "INSERT INTO items SELECT g, 'kind ' || (g % 7) FROM generate_series(1, 500) g",
    );
    expect(await rowsOf("SELECT 1 FROM pg_stats WHERE tablename = 'items'")).toHaveLength(0);

    expect(await vacuumWhereDue(database)).toEqual({ vacuumed: [], analyzed: ["public.items"] });
    expect(await rowsOf("SELECT attname FROM pg_stats WHERE tablename = 'items' ORDER BY 1")).toEqual([
      { attname: "id" },
      { attname: "kind" },
    ]);
    // Counted afresh from there: nothing is due again until the table changes again.
    expect(await vacuumWhereDue(database)).toEqual({ vacuumed: [], analyzed: [] });
  });

  it("vacuums a table once a fifth of it is deleted, and its space is used again", async () => {
    await database.executeSql("CREATE TABLE pages (id int PRIMARY KEY, body text)");
    const fill = (from: number, to: number) =>
      database.executeSql(
        `INSERT INTO pages SELECT g, repeat(md5(g::text), 30) FROM generate_series(${from}, ${to}) g`,
      );
    const size = async () => Number((await rowsOf("SELECT pg_table_size('pages') AS n"))[0]?.n);
    await fill(1, 1000);
    await vacuumWhereDue(database);
    const full = await size();

    await database.executeSql("DELETE FROM pages WHERE id <= 600");
    expect((await vacuumWhereDue(database)).vacuumed).toEqual(["public.pages"]);
    await fill(1001, 1600);
    // Without the vacuum the new rows go after the dead ones: 1.6 times the size.
    expect(await size()).toBeLessThanOrEqual(full * 1.1);
  });

  it("counts the dead parts of large values towards the table that holds them", async () => {
    // Eight rows, under the threshold of 50, whose values are kept apart in the table's toast table.
    await database.executeSql("CREATE TABLE files (id int PRIMARY KEY, bytes bytea)");
    await database.executeSql("ALTER TABLE files ALTER COLUMN bytes SET STORAGE EXTERNAL");
    await database.executeSql(
      "INSERT INTO files SELECT g, decode(repeat(md5(g::text), 4000), 'hex') FROM generate_series(1, 8) g",
    );
    await vacuumWhereDue(database);
    await database.executeSql("DELETE FROM files");
    expect((await vacuumWhereDue(database)).vacuumed).toEqual(["public.files"]);
    expect(await rowsOf("SELECT pg_table_size('files') AS n")).toEqual([{ n: expect.any(Number) }]);
    expect(Number((await rowsOf("SELECT pg_table_size('files') AS n"))[0]?.n)).toBeLessThan(64 * 1024);
  });
});

describe("the embedded database of a command", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "fineflow-tidy-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const paragraph = (doc: number, i: number) =>
    `Step ${i} of guide ${doc}: ${Array.from({ length: 60 }, (_, w) => `word${(doc * 7919 + i * 104729 + w * 31) % 100_003}`).join(" ")}.`;
  const document = (doc: number) =>
    `# Guide ${doc}\n\n${Array.from({ length: 120 }, (_, i) => paragraph(doc, i)).join("\n\n")}\n`;

  it("gives back the space of deleted documents before the command ends", { timeout: 120_000 }, async () => {
    const config = loadConfig({ FINEFLOW_DATA_DIR: dataDir });
    const stored = "SELECT (pg_table_size('chunks') + pg_table_size('document_files'))::int AS bytes";

    const runtime = await openRuntime(config, "test", silentLogger);
    let withDocuments: number;
    try {
      const { database, services } = runtime;
      await runtime.startWorkers();
      const user = await new UsersRepository(database.db).insertUser({
        email: "a@example.com",
        passwordHash: null,
      });
      const actor = { userId: user.id };
      const project = await services.projects.create(actor, { name: "docs" });
      const files = [1, 2, 3, 4].map((i) => ({
        name: `guide-${i}.md`,
        bytes: new TextEncoder().encode(document(i)),
      }));
      await services.documents.ingest(actor, project.id, files);
      for (;;) {
        const documents = await services.documents.list(actor, project.id);
        if (documents.every((d) => d.status === "ready")) break;
        expect(documents.filter((d) => d.status === "failed")).toEqual([]);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The minute's tidy-up may have run meanwhile, on some of the uploads processed (and deleted) so far,
      // which leaves the rest under autovacuum's threshold: run it now as it would, at a minute's start, so
      // that what follows does not depend on when a minute started.
      await runtime.services.tidyDatabase?.();
      withDocuments = (await database.executeSql(stored)).rows[0]?.bytes as number;
      expect(withDocuments).toBeGreaterThan(200 * 1024);
      for (const d of await services.documents.list(actor, project.id))
        await services.documents.delete(actor, d.id);
    } finally {
      await runtime.close();
    }

    const next = await openRuntime(config, "test", silentLogger);
    try {
      // Without the tidy-up at close, the deleted rows keep every page they had, to the next command and after.
      expect((await next.database.executeSql(stored)).rows[0]?.bytes).toBeLessThan(withDocuments / 5);
    } finally {
      await next.close();
    }
  });
});
