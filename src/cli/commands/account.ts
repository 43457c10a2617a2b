import type { Command } from "commander";
import { loadConfig } from "../../config.js";
import { toUserDto } from "../../server/routes/auth-routes.js";
import { withClient, withRuntime } from "../connect.js";
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
}
