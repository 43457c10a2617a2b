import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { inject } from "vitest";
import { type Database, openPostgres, wrapPglite } from "../../src/db/client.js";

export interface TestDatabase extends Database {
  /** Connection string of this test's own PostgreSQL database; undefined on PGlite. */
  url?: string;
}

/**
 * A fresh, migrated database of its own for a test file: PGlite cloned from the run's dump, or, when
 * DATABASE_URL is set, a new PostgreSQL database made from the run's template and dropped on close.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    const dump = new Blob([await readFile(inject("pgliteDump"))]);
    return wrapPglite(await PGlite.create({ loadDataDir: dump }));
  }
  const name = `fineflow_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject("postgresTemplate")}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const database = await openPostgres(url.toString());
  return {
    ...database,
    url: url.toString(),
    async close() {
      await database.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
