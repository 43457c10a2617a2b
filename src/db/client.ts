import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
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

const execFileAsync = promisify(execFile);
const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

/** PostgreSQL advisory lock key held while migrating, so that many workers starting at once migrate once. */
const MIGRATION_LOCK = 72_410_001;

/**
 * Opens PGlite persisted in `dataDir` and applies migrations. PGlite is single-process: callers hold the
 * data directory's lock (see `data-dir-lock.ts`) before opening it.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  if (!existsSync(join(dataDir, "PG_VERSION"))) await createPgliteDataDir(dataDir);
  return wrapPglite(await PGlite.create(dataDir, { postgresqlconf: PGLITE_CONF }));
}

/**
 * PostgreSQL's default 128 MB of shared buffers is memory PGlite holds for the life of the process; its one
 * connection reads through the operating system's file cache anyway. 32 MB measured as fast on ingest and
 * validation and ~100 MB lighter; 16 MB as fast again, and the 50 MB ingest benchmark's peak 25–40 MB lower
 * (430–439 MB in four runs against 452–497 MB).
 */
const PGLITE_CONF = ["shared_buffers = 16MB"];

/**
 * Creating a data directory runs initdb's own WebAssembly module, whose memory stays with the process that
 * ran it (measured: ~500 MB more at the peak of a later ingest, even when a worker thread ran it). A short
 * child process creates the directory instead, so the process that opens it holds only the database. It
 * runs with the settings the database is opened with: with PostgreSQL's default buffers it peaked at
 * ~910 MB, ~780 MB now, for ~3 s.
 */
async function createPgliteDataDir(dataDir: string): Promise<void> {
  const script =
    "const { PGlite } = await import(process.argv[1]);" +
    "await (await PGlite.create(process.argv[2], { postgresqlconf: JSON.parse(process.argv[3]) })).close();";
  const pglite = import.meta.resolve("@electric-sql/pglite");
  try {
    const conf = JSON.stringify(PGLITE_CONF);
    await execFileAsync(process.execPath, ["--input-type=module", "-e", script, pglite, dataDir, conf]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`creating the database in ${dataDir} failed${stderr ? `: ${stderr}` : ""}`);
  }
}

/** Applies migrations to an open PGlite (also an in-memory one, as tests use) and wraps it. */
export async function wrapPglite(lite: PGlite): Promise<Database> {
  installNativeByteaCodec(lite);
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

const BYTEA = 17;

/**
 * PGlite converts bytea to and from hex one byte at a time through strings: storing and reading back a
 * 1 MB document took ~0.3 s and much garbage. Parameters go as they are instead, which PGlite sends in
 * PostgreSQL's binary format (no hex at all); results come as hex text, which Node decodes natively.
 */
function installNativeByteaCodec(lite: PGlite): void {
  lite.serializers[BYTEA] = (value: unknown) => {
    if (!(value instanceof Uint8Array)) throw new Error("Invalid input for bytea type");
    // Typed as a string, but PGlite 0.5's Bind sends any ArrayBuffer view in binary format; the bytea
    // round-trip test in migrations.test.ts fails should a later version stop doing so.
    return value as unknown as string;
  };
  lite.parsers[BYTEA] = (text: string) => {
    const bytes = Buffer.from(text.slice(2), "hex");
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
