import type { Database } from "../../src/db/client.js";

/**
 * The tables (schema-qualified, the queue's included) holding `needle` anywhere in a row: each row is read
 * whole as text, so every text, jsonb and array column counts. For proving a secret is stored nowhere.
 */
export async function tablesContaining(database: Database, needle: string): Promise<string[]> {
  const { rows } = await database.executeSql(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  const hits: string[] = [];
  for (const { schema, name } of rows as { schema: string; name: string }[]) {
    const table = `"${schema.replaceAll('"', '""')}"."${name.replaceAll('"', '""')}"`;
    const { rows: found } = await database.executeSql(
      `SELECT count(*)::int AS n FROM ${table} AS t WHERE strpos(t::text, $1) > 0`,
      [needle],
    );
    if ((found[0]?.n as number) > 0) hits.push(`${schema}.${name}`);
  }
  return hits;
}
