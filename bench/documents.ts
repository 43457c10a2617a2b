import type { Database } from "../src/db/client.js";

/**
 * Resolves once the queue's workers have processed every document (none pending or processing), checking
 * every 20 ms so that a benchmark's clock stops close to when they finish.
 */
export async function documentsProcessed(database: Database): Promise<void> {
  for (;;) {
    const { rows } = await database.executeSql(
      "SELECT count(*)::int AS n FROM documents WHERE status IN ('pending', 'processing')",
    );
    if (rows[0]?.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
