import { type Command, Option } from "commander";
import { loadConfig } from "../../config.js";
import { BUDGET_ENFORCEMENTS } from "../../core/statuses.js";
import { withClient } from "../connect.js";
import { parseUsd } from "../flags.js";
import { printJson, printTable } from "../output.js";
import { type ProjectDto, resolveProject } from "../resolve-project.js";

type Project = ProjectDto;

const budgetText = (p: Project) =>
  p.monthlyBudgetUsd === null ? "none" : `$${p.monthlyBudgetUsd.toFixed(2)}/month`;

export function registerProject(program: Command) {
  const project = program.command("project").description("Create and list projects");

  project
    .command("create <name>")
    .description("Create a project")
    .option("--budget <usd>", "monthly budget in US dollars", parseUsd)
    .addOption(
      new Option("--enforce <mode>", "when a job would exceed the budget: warn, or block it")
        .choices(BUDGET_ENFORCEMENTS)
        .default("warn"),
    )
    .option("--description <text>", "what the project is for")
    .option("--json", "print the project as JSON")
    .action(
      async (
        name: string,
        options: { budget?: number; enforce: string; description?: string; json?: boolean },
      ) => {
        const created = await withClient(loadConfig(process.env), "project create", (client) =>
          client.request<Project>("POST", "/api/projects", {
            name,
            description: options.description,
            monthlyBudgetUsd: options.budget ?? null,
            budgetEnforcement: options.enforce,
          }),
        );
        if (options.json) printJson(created);
        else
          process.stdout.write(
            `Created project "${created.name}" (${created.id}), budget ${budgetText(created)}.\n`,
          );
      },
    );

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
