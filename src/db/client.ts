import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzleLite } from "drizzle-orm/pglite";
import { migrate as migrateLite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import * as schema from "./schema.js";

export type Schema = typeof schema;
/** The one query interface repositories use, whichever backend is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface SqlResult {
  rows: Record<string, unknown>[];
}

export interface Database {
  readonly kind: "pglite" | "postgres";
  readonly db: Db;
  /** Raw SQL with positional parameters; what the queue library runs its own statements through. */
  executeSql(text: string, values?: unknown[]): Promise<SqlResult>;
  /** Calls `onPayload` for each `NOTIFY` on `channel` until the returned function is called. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

/** PostgreSQL advisory lock key held while migrating, so that many workers starting at once migrate once. */
const MIGRATION_LOCK = 72_410_001;

/**
 * Opens PGlite persisted in `dataDir` and applies migrations. PGlite is single-process: callers hold the
 * data directory's lock (see `data-dir-lock.ts`) before opening it.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  if (!existsSync(join(dataDir, "PG_VERSION"))) await createPgliteDataDir(dataDir);
  return wrapPglite(await PGlite.create(dataDir));
}

/**
 * Creating a data directory runs initdb's own WebAssembly module, whose memory PGlite keeps for the life
 * of the process (~500 MB, measured). A worker thread creates the directory and exits, taking that memory
 * with it, so the process that then opens the directory holds only the database (~250 MB).
 */
async function createPgliteDataDir(dataDir: string): Promise<void> {
  const source = `
    const { workerData } = require("node:worker_threads");
    import(workerData.pglite).then(async ({ PGlite }) => (await PGlite.create(workerData.dataDir)).close());`;
  const worker = new Worker(source, {
    eval: true,
    workerData: { pglite: import.meta.resolve("@electric-sql/pglite"), dataDir },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`creating the database in ${dataDir} failed (exit ${code})`)),
    );
  });
}

/** Applies migrations to an open PGlite (also an in-memory one, as tests use) and wraps it. */
export async function wrapPglite(lite: PGlite): Promise<Database> {
  await migrateLite(drizzleLite(lite), { migrationsFolder });
  return {
    kind: "pglite",
    db: drizzleLite(lite, { schema }) as unknown as Db,
    async executeSql(text, values) {
      // PGlite's `query` takes one statement with parameters; `exec` takes a script without them.
      if (values?.length) return lite.query(text, values) as Promise<SqlResult>;
      const results = await lite.exec(text);
      return (results.at(-1) as SqlResult | undefined) ?? { rows: [] };
    },
    listen: (channel, onPayload) => lite.listen(channel, onPayload),
    close: () => lite.close(),
  };
}

/** Connects to PostgreSQL, applies migrations under an advisory lock and returns the database. */
export async function openPostgres(connectionString: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  pool.on("error", () => {
    // An idle client lost its connection; the pool replaces it on the next query.
  });
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await migratePg(drizzlePg(client), { migrationsFolder });
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
  return {
    kind: "postgres",
    db: drizzlePg(pool, { schema }) as unknown as Db,
    executeSql: (text, values) => pool.query(text, values) as Promise<SqlResult>,
    listen: (channel, onPayload) => listenPostgres(pool, channel, onPayload),
    close: () => pool.end(),
  };
}

/**
 * LISTEN holds a connection for as long as it listens, so each listener gets its own client, returned to
 * the pool (and its LISTEN dropped) when it stops.
 */
async function listenPostgres(pool: pg.Pool, channel: string, onPayload: (payload: string) => void) {
  const client = await pool.connect();
  const onNotification = (message: pg.Notification) => {
    if (message.channel === channel) onPayload(message.payload ?? "");
  };
  client.on("notification", onNotification);
  await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  return async () => {
    client.off("notification", onNotification);
    await client.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
    client.release();
  };
}
