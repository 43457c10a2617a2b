import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { type Database, openPostgres, wrapPglite } from "../src/db/client.js";
import { silentLogger } from "../src/logger.js";
import { Queue } from "../src/queue/queue.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** PGlite: a dump of a migrated database, cloned per test in ~0.3 s instead of migrating again. */
    pgliteDump: string;
    /** PostgreSQL: a migrated database used as the template of each test's own database. */
    postgresTemplate: string;
  }
}

/** Migrates once per run, so each test gets a fresh, migrated database quickly on either backend. */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (url) {
    const template = `fineflow_tpl_${process.pid}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.query(`CREATE DATABASE ${template}`);
    const target = new URL(url);
    target.pathname = `/${template}`;
    const database = await openPostgres(target.toString());
    await installQueue(database);
    await database.close();
    project.provide("postgresTemplate", template);
    project.provide("pgliteDump", "");
    return async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${template}`);
      await admin.end();
    };
  }
  const lite = await PGlite.create();
  await installQueue(await wrapPglite(lite));
  const dumpPath = join(tmpdir(), `fineflow-test-${process.pid}.tar`);
  await writeFile(dumpPath, Buffer.from(await (await lite.dumpDataDir("none")).arrayBuffer()));
  await lite.close();
  project.provide("pgliteDump", dumpPath);
  project.provide("postgresTemplate", "");
  return () => rm(dumpPath, { force: true });
}

/** Installs the queue's schema into the template too, so no test pays for it. */
async function installQueue(database: Database) {
  const queue = new Queue(database, silentLogger, { concurrency: 1 });
  await queue.start();
  await queue.stop();
}
