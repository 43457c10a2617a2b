import type { Config } from "../config.js";
import { createServices, openConfiguredDatabase, type Services } from "../context.js";
import type { Database } from "../db/client.js";
import { DataDirBusyError, readLockHolder } from "../db/data-dir-lock.js";
import { silentLogger } from "../logger.js";
import { createApp } from "../server/app.js";
import { ApiClient } from "./api-client.js";
import { ensureCliToken, readCliToken } from "./cli-token.js";

export class CliError extends Error {
  override readonly name = "CliError";
}

/** Any base URL works for the in-process app: requests never leave the process. */
const IN_PROCESS_URL = "http://fineflow.local";

/**
 * Opens the database for one command and closes it after, whatever happens. Used by the operator commands
 * (`user create`, `token create --email`) that act before any user can.
 */
export async function withServices<T>(
  config: Config,
  command: string,
  work: (services: Services, database: Database) => Promise<T>,
): Promise<T> {
  const opened = await openConfiguredDatabase(config, command, silentLogger);
  try {
    return await work(createServices(opened.database), opened.database);
  } finally {
    await opened.close();
  }
}

/**
 * Runs `work` with an API client, choosing how to reach FineFlow:
 * - FINEFLOW_URL: a remote server, as FINEFLOW_TOKEN's user;
 * - the embedded database while `fineflow serve` runs on it: that server, as the local owner (PGlite must
 *   not be opened twice);
 * - otherwise the database itself, through the in-process app: as FINEFLOW_TOKEN's user on PostgreSQL,
 *   as the local owner on the embedded database.
 */
export async function withClient<T>(
  config: Config,
  command: string,
  work: (client: ApiClient) => Promise<T>,
) {
  if (config.FINEFLOW_URL) {
    return work(new ApiClient(fetch, config.FINEFLOW_URL, requireToken(config)));
  }
  if (!config.DATABASE_URL) {
    const holder = readLockHolder(config.FINEFLOW_DATA_DIR);
    if (holder?.url) {
      const token = readCliToken(config.FINEFLOW_DATA_DIR);
      if (!token) throw new DataDirBusyError(config.FINEFLOW_DATA_DIR, holder);
      return work(new ApiClient(fetch, holder.url, token));
    }
  }
  return withServices(config, command, async (services, database) => {
    const token = config.DATABASE_URL
      ? requireToken(config)
      : await ensureCliToken(config.FINEFLOW_DATA_DIR, services.auth);
    const app = createApp({ services, logger: silentLogger, databaseKind: database.kind });
    return work(new ApiClient((request) => app.fetch(request), IN_PROCESS_URL, token));
  });
}

function requireToken(config: Config): string {
  if (config.FINEFLOW_TOKEN) return config.FINEFLOW_TOKEN;
  throw new CliError(
    "Set FINEFLOW_TOKEN to your API token: create one with `fineflow token create --email <you> --name cli`.",
  );
}
