import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { Command } from "commander";
import { type Config, loadConfig } from "../../config.js";
import { whenDataDirFree } from "../../db/data-dir-lock.js";
import { createLogger, type Logger } from "../../logger.js";
import { ensureCliToken } from "../cli-token.js";
import { CliError } from "../connect.js";
import { parsePort } from "../flags.js";
import { serverUrl } from "../server-url.js";

export function registerServe(program: Command) {
  program
    .command("serve")
    .description("Run the web app, the HTTP API and a background worker in one process")
    .option("--host <host>", "address to listen on (HOST; default 127.0.0.1)")
    .option("--port <port>", "port to listen on (PORT; default 8787)", parsePort)
    .action(async (options: { host?: string; port?: number }) => {
      const config = loadConfig(process.env);
      await runServer(
        { ...config, HOST: options.host ?? config.HOST, PORT: options.port ?? config.PORT },
        createLogger(),
      );
    });

  program
    .command("worker")
    .description("Run background workers only (PostgreSQL deployments; `serve` already runs one)")
    .action(async () => {
      const config = loadConfig(process.env);
      if (!config.DATABASE_URL) {
        throw new CliError(
          "`fineflow worker` needs DATABASE_URL: on the embedded database, `fineflow serve` runs the worker itself.",
        );
      }
      await runWorker(config, createLogger());
    });
}

async function runServer(config: Config, logger: Logger) {
  // Loaded here, not at the top, as in `connect`: see there.
  const [{ serve }, { openRuntime }, { createApp }, { loginLinkUrl }] = await Promise.all([
    import("@hono/node-server"),
    import("../../context.js"),
    import("../../server/app.js"),
    import("../../server/routes/auth-routes.js"),
  ]);
  if (!config.DATABASE_URL) {
    await whenDataDirFree(config.FINEFLOW_DATA_DIR, (holder) =>
      process.stdout.write(
        `Waiting for \`fineflow ${holder.command}\` (pid ${holder.pid}) to finish with the embedded database…\n`,
      ),
    );
  }
  const runtime = await openRuntime(config, "serve", logger);
  const { services, database, settings } = runtime;
  await runtime.startWorkers();
  const app = createApp({ services, logger, databaseKind: database.kind, settings });

  const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new CliError(
              `Port ${config.PORT} on ${config.HOST} is in use: choose another with --port or PORT.`,
            )
          : error,
      ),
    );
  }).catch(async (error) => {
    await runtime.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const url = serverUrl(config.HOST, port);
  // The CLI's token before the URL: a command that finds the URL goes through this server with it.
  if (database.kind === "pglite") await ensureCliToken(config.FINEFLOW_DATA_DIR, services.auth);
  runtime.lock?.update({ url });

  // Which database, and where: found in a folder above, or new, it may not be the one the user expects.
  const where =
    database.kind === "pglite" ? `embedded, in ${resolve(config.FINEFLOW_DATA_DIR)}` : "PostgreSQL";
  process.stdout.write(`FineFlow is running at ${url} (database: ${where})\n`);
  if (database.kind === "pglite") {
    const owner = await services.auth.ensureLocalOwner();
    const { token } = await services.auth.createLoginLink({ userId: owner.id });
    process.stdout.write(
      `Sign in (one-time link, valid 15 minutes): ${loginLinkUrl(url, token)}\n` +
        "For a new link later, run `fineflow signin-link`.\n",
    );
  }

  await untilSignalled();
  logger.info("shutting down");
  await new Promise((resolve) => server.close(resolve));
  await runtime.close();
}

async function runWorker(config: Config, logger: Logger) {
  const { openRuntime } = await import("../../context.js");
  const runtime = await openRuntime(config, "worker", logger);
  await runtime.startWorkers();
  process.stdout.write("FineFlow worker is running.\n");
  await untilSignalled();
  await runtime.close();
}

function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
}
