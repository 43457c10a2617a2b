import type { Command } from "commander";
import { type Config, loadConfig } from "../../config.js";
import { settledLockHolder } from "../../db/data-dir-lock.js";
import { CliError, withClient, withRuntime } from "../connect.js";
import { printJson } from "../output.js";
import { readSecret } from "../read-secret.js";

interface CreatedToken {
  id: string;
  name: string;
  token: string;
}

export function registerAccounts(program: Command) {
  program
    .command("user")
    .description("Manage users (server mode)")
    .command("create")
    .description("Create a user; the password is read from standard input or a prompt")
    .requiredOption("--email <email>", "the user's email address")
    .option("--json", "print the user as JSON")
    .action(async (options: { email: string; json?: boolean }) => {
      const password = await readSecret(`Password for ${options.email}: `);
      const user = await withRuntime(loadConfig(process.env), "user create", ({ services }) =>
        services.auth.createUser({ email: options.email, password }),
      );
      // Loaded here, not at the top, as in `connect`: see there.
      const { toUserDto } = await import("../../server/routes/auth-routes.js");
      if (options.json) printJson(toUserDto(user));
      else process.stdout.write(`Created user ${user.email} (${user.id}).\n`);
    });

  program
    .command("token")
    .description("Manage personal API tokens")
    .command("create")
    .description("Create a personal API token for the API and the CLI (shown once)")
    .requiredOption("--name <name>", "what the token is for, e.g. laptop or ci")
    .option("--email <email>", "operator: create it for this user, directly in the database")
    .option("--json", "print the token as JSON")
    .action(async (options: { name: string; email?: string; json?: boolean }) => {
      const config = loadConfig(process.env);
      const created: CreatedToken = options.email
        ? await withRuntime(config, "token create", async ({ services }) => {
            const user = await services.auth.findUserByEmail(options.email ?? "");
            return services.auth.createApiToken({ userId: user.id }, { name: options.name });
          })
        : await withClient(config, "token create", (client) =>
            client.request<CreatedToken>("POST", "/api/tokens", { name: options.name }),
          );
      if (options.json) printJson({ id: created.id, name: created.name, token: created.token });
      else process.stdout.write(`${created.token}\nKeep this token safe: it is shown only once.\n`);
    });

  program
    .command("signin-link")
    .description("Print a new one-time link that signs you in to the running server's web app")
    .option("--json", "print the link and when it expires as JSON")
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig(process.env);
      const server = await runningServerUrl(config);
      const { token, expiresAt } = await withClient(config, "signin-link", (client) =>
        client.request<{ token: string; expiresAt: string }>("POST", "/api/auth/links"),
      );
      const { loginLinkUrl } = await import("../../server/routes/auth-routes.js");
      const url = loginLinkUrl(server, token);
      if (options.json) printJson({ url, expiresAt });
      else {
        const until = new Date(expiresAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        process.stdout.write(`Sign in (one-time link, valid until ${until}): ${url}\n`);
      }
    });
}

/**
 * The server the link is for. Without one, the command would make the link in-process: stored in the
 * database, but with no server to open it on once the command exits.
 */
async function runningServerUrl(config: Config): Promise<string> {
  if (config.FINEFLOW_URL) return config.FINEFLOW_URL;
  if (config.DATABASE_URL) {
    throw new CliError(
      "Set FINEFLOW_URL to your FineFlow server's address (and FINEFLOW_TOKEN): a sign-in link is for a running server.",
    );
  }
  const url = (await settledLockHolder(config.FINEFLOW_DATA_DIR))?.url;
  if (url) return url;
  throw new CliError(
    `No FineFlow server is running on ${config.FINEFLOW_DATA_DIR}: start \`fineflow serve\` first (it prints a sign-in link itself).`,
  );
}
