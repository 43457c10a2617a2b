import type { Database } from "./client.js";

/**
 * PostgreSQL's own autovacuum defaults: a table is vacuumed once its dead rows exceed 50 + 20% of its rows,
 * and analysed once the rows changed since its last analysis exceed 50 + 10%.
 */
const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE = 0.2;
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 0.1;

export interface Tidied {
  vacuumed: string[];
  analyzed: string[];
}

/**
 * Does for the embedded database what autovacuum does on a PostgreSQL server, which PGlite cannot: it runs
 * PostgreSQL in single-user mode, where no autovacuum process exists. Without it, the space of deleted and
 * replaced rows (a deleted document's chunks and stored upload, every finished queue job) was never reused:
 * ingesting and deleting the same 5 MB six times grew the data directory from 41 to 125 MB, where it stays
 * at ~26 MB with this. Nor were tables ever analysed, so every query was planned without statistics (the
 * queue's fetch of the next job walked every job: 5.2 ms instead of 0.85 ms).
 *
 * PGlite keeps the counts this reads only while it is open, so each process judges the changes it made.
 * A toast table (an upload's parts) counts towards the table that owns it, which VACUUM processes with it.
 */
export async function vacuumWhereDue(database: Database): Promise<Tidied> {
  // This session's latest changes are counted at the next idle moment; this makes that moment now.
  await database.executeSql("SELECT pg_stat_force_next_flush()");
  const { rows } = await database.executeSql(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name,
       bool_or(s.n_dead_tup > $1::int + $2::float8 * greatest(t.reltuples, 0)) AS vacuum,
       bool_or(s.relid = c.oid AND s.n_mod_since_analyze > $3::int + $4::float8 * greatest(c.reltuples, 0)) AS analyze
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_stat_all_tables s ON s.relid IN (c.oid, c.reltoastrelid)
     JOIN pg_class t ON t.oid = s.relid
     WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     GROUP BY n.nspname, c.relname
     ORDER BY 1`,
    [VACUUM_THRESHOLD, VACUUM_SCALE, ANALYZE_THRESHOLD, ANALYZE_SCALE],
  );
  const tidied: Tidied = { vacuumed: [], analyzed: [] };
  for (const { name, vacuum, analyze } of rows as { name: string; vacuum: boolean; analyze: boolean }[]) {
    if (vacuum) {
      await database.executeSql(analyze ? `VACUUM (ANALYZE) ${name}` : `VACUUM ${name}`);
      tidied.vacuumed.push(name);
    } else if (analyze) await database.executeSql(`ANALYZE ${name}`);
    if (analyze) tidied.analyzed.push(name);
  }
  return tidied;
}
