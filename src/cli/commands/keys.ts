import type { Command } from "commander";
import { loadConfig } from "../../config.js";
import { KEY_PROVIDERS, type KeyProvider } from "../../core/statuses.js";
import {
  commitRotationSecret,
  embeddedSecretIsInUse,
  secretFilePath,
  stageRotationSecret,
} from "../../secret-file.js";
import { CliError, withClient, withRuntime } from "../connect.js";
import { printJson, printTable } from "../output.js";
import { readSecret } from "../read-secret.js";

interface KeyStatusDto {
  provider: KeyProvider;
  set: boolean;
  last4?: string;
  updatedAt?: string;
}

const PIPE_HINT = (provider: string) =>
  `pipe it in (\`printf %s "$KEY" | fineflow keys set ${provider}\`) or run \`fineflow keys set ${provider}\` in a terminal to be prompted`;

/**
 * The provider named on the command line, checked here so that nothing is read for a bad one. The value
 * is never echoed: it may be a key typed in the wrong place.
 */
function providerArg(value: string): KeyProvider {
  if ((KEY_PROVIDERS as readonly string[]).includes(value)) return value as KeyProvider;
  throw new CliError(
    `provider: must be one of ${KEY_PROVIDERS.join(", ")}. Never put an API key on the command line: ${PIPE_HINT("<provider>")}.`,
  );
}

const describe = (status: KeyStatusDto) => (status.set ? `set (…${status.last4})` : "not set");

export function registerKeys(program: Command) {
  const keys = program
    .command("keys")
    .description("Your provider API keys (openai, together, llm), stored encrypted");

  keys
    .command("set <provider>")
    .description(
      "Set or replace your key for a provider: read from standard input when piped, else a hidden prompt",
    )
    // Anything after the provider is refused below, with a hint, instead of commander echoing it back.
    .argument("[refused...]")
    .allowUnknownOption()
    .option("--json", "print the key's status as JSON")
    .action(async (provider: string, refused: string[], options: { json?: boolean }) => {
      if (refused.length > 0) {
        const shown = (KEY_PROVIDERS as readonly string[]).includes(provider) ? provider : "<provider>";
        throw new CliError(
          `\`keys set\` takes only the provider. Never put an API key on the command line (it stays in shell history and the process list): ${PIPE_HINT(shown)}.`,
        );
      }
      const name = providerArg(provider);
      const apiKey = await readSecret(`API key for ${name} (input hidden): `);
      const status = await withClient(loadConfig(process.env), "keys set", (client) =>
        client.request<KeyStatusDto>("PUT", `/api/keys/${name}`, { apiKey }),
      );
      if (options.json) return printJson(status);
      process.stdout.write(`Saved your ${name} key (…${status.last4}), encrypted.\n`);
    });

  keys
    .command("status")
    .description("Which keys you have set: the last four characters only, never the key")
    .option("--json", "print the statuses as JSON")
    .action(async (options: { json?: boolean }) => {
      const { keys: statuses } = await withClient(loadConfig(process.env), "keys status", (client) =>
        client.request<{ keys: KeyStatusDto[] }>("GET", "/api/keys"),
      );
      if (options.json) return printJson(statuses);
      printTable(
        statuses.map((s) => ({
          provider: s.provider,
          key: describe(s),
          updated: s.updatedAt?.slice(0, 10) ?? "",
        })),
        "",
      );
    });

  keys
    .command("delete <provider>")
    .description("Delete your key for a provider")
    .action(async (provider: string) => {
      const name = providerArg(provider);
      await withClient(loadConfig(process.env), "keys delete", (client) =>
        client.request("DELETE", `/api/keys/${name}`),
      );
      process.stdout.write(`Deleted your ${name} key.\n`);
    });

  keys
    .command("rotate")
    .description(
      "Operator: re-encrypt every user's keys under a new secret read from standard input (resumable)",
    )
    .option("--json", "print the result as JSON")
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig(process.env);
      const fromFile = embeddedSecretIsInUse(config);
      const input = await readSecret(
        fromFile
          ? "New encryption secret (32+ characters; empty to generate one): "
          : "New encryption secret (32+ characters): ",
      );
      if (input && input.length < 32) throw new CliError("The new secret must be at least 32 characters.");
      if (!input && !fromFile) {
        throw new CliError(
          "Give the new secret (32+ characters) on standard input, e.g. `openssl rand -base64 32 | fineflow keys rotate`.",
        );
      }
      const result = await withRuntime(config, "keys rotate", async ({ services }) => {
        // Embedded: the new secret is on disk before any key depends on it, and replaces secret.key only
        // once every key is under it; a crash in between is resumed by running this again.
        const next = fromFile ? stageRotationSecret(config.FINEFLOW_DATA_DIR, input || undefined) : input;
        const rotated = await services.keys.rotate(next);
        if (fromFile) commitRotationSecret(config.FINEFLOW_DATA_DIR);
        return rotated;
      });
      if (options.json) return printJson(result);
      const earlier = result.skipped > 0 ? `; ${result.skipped} already were, from an earlier run` : "";
      process.stdout.write(
        `Re-encrypted ${result.reencrypted} API key(s) under the new secret (key id ${result.keyId}${earlier}).\n`,
      );
      process.stdout.write(
        fromFile
          ? `The new secret is in ${secretFilePath(config.FINEFLOW_DATA_DIR)}.\n`
          : "Now set API_KEY_ENCRYPTION_SECRET to the new secret for every server and worker, and restart them.\n",
      );
    });
}
