import type { Config } from "./config.js";
import { type Database, openPglite, openPostgres } from "./db/client.js";
import { acquireDataDirLock, type DataDirLock } from "./db/data-dir-lock.js";
import { ProjectsRepository } from "./db/repositories/projects-repository.js";
import { UsersRepository } from "./db/repositories/users-repository.js";
import type { Logger } from "./logger.js";
import { createJobs } from "./queue/jobs.js";
import { AuthService } from "./services/auth-service.js";
import { ProjectService } from "./services/project-service.js";

/** The services, wired to one database: what the HTTP app, the CLI and the workers are given. */
export function createServices(database: Database) {
  const auth = new AuthService(new UsersRepository(database.db));
  const projects = new ProjectService(new ProjectsRepository(database.db));
  return { auth, projects, jobs: createJobs({ auth }) };
}
export type Services = ReturnType<typeof createServices>;

export interface OpenedDatabase {
  database: Database;
  /** Held while an embedded database is open; absent on PostgreSQL. */
  lock?: DataDirLock;
  close(): Promise<void>;
}

/** Opens PostgreSQL when `DATABASE_URL` is set, else the embedded PGlite under the data directory's lock. */
export async function openConfiguredDatabase(
  config: Config,
  command: string,
  logger: Logger,
): Promise<OpenedDatabase> {
  if (config.DATABASE_URL) {
    const database = await openPostgres(config.DATABASE_URL);
    return { database, close: () => database.close() };
  }
  const lock = acquireDataDirLock(config.FINEFLOW_DATA_DIR, command);
  try {
    logger.info("opening the embedded database", { dataDir: config.FINEFLOW_DATA_DIR });
    const database = await openPglite(`${config.FINEFLOW_DATA_DIR}/pgdata`);
    return {
      database,
      lock,
      async close() {
        await database.close();
        lock.release();
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
