import { type Command, Option } from "commander";
import { loadConfig } from "../../config.js";
import { chunkingText } from "../../core/chunking.js";
import { formatUsd } from "../../core/money.js";
import { RANGES } from "../../core/ranges.js";
import { BUDGET_ENFORCEMENTS } from "../../core/statuses.js";
import { CliError, withClient } from "../connect.js";
import { numberFlag, parseUsd, parseWholeNumber, wholeNumberFlag } from "../flags.js";
import type { BodyOf, FlagNames } from "../in-flag-terms.js";
import { printJson, printTable } from "../output.js";
import { type ProjectDto, resolveProject } from "../resolve-project.js";

type Project = ProjectDto;

const budgetText = (p: Project) =>
  p.monthlyBudgetUsd === null ? "none" : `${formatUsd(p.monthlyBudgetUsd)}/month`;

interface SettingFlags {
  budget?: number | "none";
  enforce?: string;
  description?: string;
  chunkTokens?: number;
  chunkOverlap?: number;
  duplicateThreshold?: number;
  json?: boolean;
}

/** The flags `project create` and `project update` share, and the API fields they set. */
function settingOptions(command: Command): Command {
  return command
    .option("--budget <usd>", "monthly budget in US dollars, or `none`", parseUsd)
    .addOption(
      new Option(
        "--enforce <mode>",
        "when a job would exceed the budget: warn (default), or block it",
      ).choices(BUDGET_ENFORCEMENTS),
    )
    .option("--description <text>", "what the project is for")
    .option(
      "--chunk-tokens <n>",
      "target chunk size in o200k tokens (default 512)",
      wholeNumberFlag(RANGES.chunkTargetTokens),
    )
    .option(
      "--chunk-overlap <n>",
      "tokens consecutive chunks share, under half a chunk (a new project: 50, or 50/512 of --chunk-tokens)",
      parseWholeNumber,
    )
    .option(
      "--duplicate-threshold <j>",
      "Jaccard similarity from which chunks are near-duplicates (default 0.8)",
      numberFlag(RANGES.duplicateThreshold),
    )
    .option("--json", "print the project as JSON");
}

const SETTING_FLAGS = {
  description: "--description",
  monthlyBudgetUsd: "--budget",
  budgetEnforcement: "--enforce",
  chunkTargetTokens: "--chunk-tokens",
  chunkOverlapTokens: "--chunk-overlap",
  duplicateThreshold: "--duplicate-threshold",
} as const satisfies FlagNames;

function settingsBody(flags: SettingFlags) {
  const body: BodyOf<typeof SETTING_FLAGS> = {
    description: flags.description,
    monthlyBudgetUsd: flags.budget === "none" ? null : flags.budget,
    budgetEnforcement: flags.enforce,
    chunkTargetTokens: flags.chunkTokens,
    chunkOverlapTokens: flags.chunkOverlap,
    duplicateThreshold: flags.duplicateThreshold,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}

function printProject(project: Project, verb: string, json?: boolean) {
  if (json) return printJson(project);
  process.stdout.write(
    `${verb} project "${project.name}" (${project.id}), budget ${budgetText(project)}` +
      `${project.monthlyBudgetUsd === null ? "" : ` (${project.budgetEnforcement})`}; ${chunkingText(project)}.\n`,
  );
}

export function registerProject(program: Command) {
  const project = program.command("project").description("Create, change and list projects");

  settingOptions(project.command("create <name>").description("Create a project")).action(
    async (name: string, flags: SettingFlags) => {
      const created = await withClient(loadConfig(process.env), "project create", (client) =>
        client.request<Project>(
          "POST",
          "/api/projects",
          { name, ...settingsBody(flags) },
          { ...SETTING_FLAGS, name: "<name>" },
        ),
      );
      printProject(created, "Created", flags.json);
    },
  );

  settingOptions(
    project
      .command("update <name>")
      .description(
        "Change a project's budget or chunking settings (chunking applies to documents processed from then on: " +
          "ingest a document again to chunk it this way)",
      )
      .option("--rename <new-name>", "give the project a new name"),
  ).action(async (name: string, flags: SettingFlags & { rename?: string }) => {
    const change = { name: flags.rename, ...settingsBody(flags) };
    if (Object.values(change).every((value) => value === undefined)) {
      const choices = ["--rename", ...Object.values(SETTING_FLAGS)].join(", ");
      throw new CliError(`Nothing to change: give one or more of ${choices}.`);
    }
    const updated = await withClient(loadConfig(process.env), "project update", async (client) => {
      const { id } = await resolveProject(client, name);
      return client.request<Project>("PATCH", `/api/projects/${id}`, change, {
        ...SETTING_FLAGS,
        name: "--rename",
      });
    });
    printProject(updated, "Updated", flags.json);
  });

  project
    .command("list")
    .description("List your projects")
    .option("--json", "print the projects as a JSON array")
    .action(async (options: { json?: boolean }) => {
      const { projects } = await withClient(loadConfig(process.env), "project list", (client) =>
        client.request<{ projects: Project[] }>("GET", "/api/projects"),
      );
      if (options.json) return printJson(projects);
      printTable(
        projects.map((p) => ({
          name: p.name,
          id: p.id,
          budget: budgetText(p),
          enforce: p.budgetEnforcement,
          chunking: chunkingText(p),
          created: p.createdAt.slice(0, 10),
        })),
        "No projects yet: create one with `fineflow project create <name>`.",
      );
    });

  project
    .command("delete <name>")
    .description("Delete a project and everything in it")
    .action(async (name: string) => {
      await withClient(loadConfig(process.env), "project delete", async (client) => {
        const project = await resolveProject(client, name);
        await client.request("DELETE", `/api/projects/${project.id}`);
      });
      process.stdout.write(`Deleted project "${name}".\n`);
    });
}
