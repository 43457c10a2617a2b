import { readFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { loadConfig } from "../../config.js";
import { PAIR_STATUSES } from "../../core/statuses.js";
import type { toPairDto } from "../../server/routes/pair-routes.js";
import type { ApiClient } from "../api-client.js";
import { CliError, withClient } from "../connect.js";
import { parseFraction, parsePageSize, parseWholeNumber } from "../flags.js";
import { excerpt, printJson, printTable } from "../output.js";
import { resolveDataset } from "../resolve-dataset.js";

type PairDto = ReturnType<typeof toPairDto>;

interface MessageFlags {
  user?: string;
  assistant?: string;
  system?: string;
  messagesFile?: string;
}

/** A pair's messages from flags (one exchange) or from a JSON file (any number of turns). */
async function messagesFrom(flags: MessageFlags) {
  if (flags.messagesFile) {
    try {
      return JSON.parse(await readFile(flags.messagesFile, "utf8")) as unknown;
    } catch (error) {
      throw new CliError(`--messages-file: ${(error as Error).message}`);
    }
  }
  if (flags.user === undefined || flags.assistant === undefined) {
    throw new CliError("Give --user and --assistant, or --messages-file with a JSON list of messages.");
  }
  const system = flags.system ? [{ role: "system", content: flags.system }] : [];
  return [...system, { role: "user", content: flags.user }, { role: "assistant", content: flags.assistant }];
}

const run = <T>(command: string, work: (client: ApiClient) => Promise<T>) =>
  withClient(loadConfig(process.env), command, work);

const messageOptions = (command: Command) =>
  command
    .option("--user <text>", "the user's message")
    .option("--assistant <text>", "the assistant's answer")
    .option("--system <text>", "a system message for this pair only")
    .option("--messages-file <file>", "a JSON list of {role, content} messages (conversations)")
    .option("--json", "print the pair as JSON");

const preview = (pair: PairDto) => excerpt(pair.messages.find((m) => m.role === "user")?.content ?? "");

export function registerPairs(program: Command) {
  const pairs = program.command("pairs").description("Review and edit a dataset's pairs");

  pairs
    .command("list")
    .description("A dataset's pairs, filtered and sorted")
    .requiredOption("--dataset <name>", "the dataset (name or id)")
    .option("--project <name>", "the project, when several have a dataset of that name")
    .addOption(
      new Option("--status <status>", "accepted, or rejected by the safety filter").choices(PAIR_STATUSES),
    )
    .option("--invalid", "only pairs the last validation found errors in")
    .option("--min-quality <score>", "only pairs scoring at least this", parseFraction)
    .option("--max-quality <score>", "only pairs scoring at most this", parseFraction)
    .option("--search <text>", "only pairs whose messages contain this text (or whose id begins so)")
    .addOption(new Option("--sort <field>", "order by").choices(["created", "quality", "tokens"]))
    .option("--desc", "largest first")
    .option("--limit <n>", "how many (1–500)", parsePageSize, 50)
    .option("--offset <n>", "how many to skip", parseWholeNumber, 0)
    .option("--json", "print the page as JSON")
    .action(async (flags: Record<string, string | number | boolean | undefined> & { dataset: string }) => {
      const page = await run("pairs list", async (client) => {
        const dataset = await resolveDataset(client, flags.dataset, flags.project as string | undefined);
        const query = new URLSearchParams({ limit: String(flags.limit), offset: String(flags.offset) });
        if (flags.status) query.set("status", String(flags.status));
        if (flags.invalid) query.set("valid", "false");
        if (flags.minQuality !== undefined) query.set("minQuality", String(flags.minQuality));
        if (flags.maxQuality !== undefined) query.set("maxQuality", String(flags.maxQuality));
        if (flags.search) query.set("search", String(flags.search));
        if (flags.sort) query.set("sort", String(flags.sort));
        if (flags.desc) query.set("order", "desc");
        return client.request<{ total: number; pairs: PairDto[] }>(
          "GET",
          `/api/datasets/${dataset.id}/pairs?${query}`,
        );
      });
      if (flags.json) return printJson(page);
      printTable(
        page.pairs.map((p) => ({
          id: p.id,
          quality: p.qualityScore?.toFixed(2) ?? "",
          tokens: String(p.tokenCount ?? ""),
          status:
            p.status === "rejected" ? `rejected: ${p.rejectionReason ?? ""}` : p.isValid ? "ok" : "invalid",
          question: preview(p),
        })),
        "No pairs match.",
      );
      process.stdout.write(`${page.pairs.length} of ${page.total} pairs.\n`);
    });

  pairs
    .command("show <id>")
    .description("One pair with its messages and provenance")
    .option("--json", "print the pair as JSON")
    .action(async (id: string, flags: { json?: boolean }) => {
      const pair = await run("pairs show", (client) =>
        client.request<PairDto>("GET", `/api/pairs/${encodeURIComponent(id)}`),
      );
      if (flags.json) return printJson(pair);
      const lines = pair.messages.map((m) => `[${m.role}]\n${m.content}`);
      const source = `source chunk ${pair.sourceChunkId ?? "-"}, ${pair.generator ?? "-"} ${pair.model ?? ""} ${pair.promptVersion ?? ""}`;
      process.stdout.write(
        `${lines.join("\n\n")}\n\nquality ${pair.qualityScore ?? "-"}, ${pair.tokenCount ?? "-"} tokens, ${pair.status}; ${source}\n`,
      );
    });

  messageOptions(pairs.command("edit <id>").description("Replace a pair's messages")).action(
    async (id: string, flags: MessageFlags & { json?: boolean }) => {
      const messages = await messagesFrom(flags);
      const pair = await run("pairs edit", (client) =>
        client.request<PairDto>("PATCH", `/api/pairs/${encodeURIComponent(id)}`, { messages }),
      );
      if (flags.json) return printJson(pair);
      process.stdout.write(
        `Edited pair ${pair.id}: ${pair.tokenCount} tokens, quality ${pair.qualityScore}.\n`,
      );
    },
  );

  messageOptions(
    pairs
      .command("add")
      .description("Add a pair by hand")
      .requiredOption("--dataset <name>", "the dataset (name or id)")
      .option("--project <name>", "the project, when several have a dataset of that name"),
  ).action(async (flags: MessageFlags & { dataset: string; project?: string; json?: boolean }) => {
    const messages = await messagesFrom(flags);
    const pair = await run("pairs add", async (client) => {
      const dataset = await resolveDataset(client, flags.dataset, flags.project);
      return client.request<PairDto>("POST", `/api/datasets/${dataset.id}/pairs`, { messages });
    });
    if (flags.json) return printJson(pair);
    process.stdout.write(`Added pair ${pair.id}.\n`);
  });

  pairs
    .command("delete <ids...>")
    .description("Delete pairs")
    .requiredOption("--dataset <name>", "the dataset (name or id)")
    .option("--project <name>", "the project, when several have a dataset of that name")
    .action(async (ids: string[], flags: { dataset: string; project?: string }) => {
      const { deleted } = await run("pairs delete", async (client) => {
        const dataset = await resolveDataset(client, flags.dataset, flags.project);
        return client.request<{ deleted: number }>("POST", `/api/datasets/${dataset.id}/pairs/delete`, {
          ids,
        });
      });
      process.stdout.write(`Deleted ${deleted} of ${ids.length} pairs.\n`);
      if (deleted < ids.length)
        throw new CliError(`${ids.length - deleted} of the ids are not pairs of this dataset.`);
    });

  pairs
    .command("restore <id>")
    .description("Take a pair the safety filter rejected into the dataset")
    .action(async (id: string) => {
      await run("pairs restore", (client) =>
        client.request("POST", `/api/pairs/${encodeURIComponent(id)}/restore`),
      );
      process.stdout.write(`Restored pair ${id}.\n`);
    });

  pairs
    .command("system-prompt")
    .description("Set the dataset-wide system prompt applied at export (--clear to remove it)")
    .requiredOption("--dataset <name>", "the dataset (name or id)")
    .option("--project <name>", "the project, when several have a dataset of that name")
    .option("--set <text>", "the system prompt")
    .option("--clear", "remove it")
    .action(async (flags: { dataset: string; project?: string; set?: string; clear?: boolean }) => {
      if ((flags.set === undefined) === !flags.clear) throw new CliError("Give --set <text> or --clear.");
      await run("pairs system-prompt", async (client) => {
        const dataset = await resolveDataset(client, flags.dataset, flags.project);
        return client.request(
          "PATCH",
          `/api/datasets/${dataset.id}`,
          { systemPrompt: flags.clear ? null : flags.set },
          { systemPrompt: "--set" },
        );
      });
      process.stdout.write(flags.clear ? "Removed the system prompt.\n" : "Set the system prompt.\n");
    });
}
