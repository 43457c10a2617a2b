import type { toProjectDto } from "../server/routes/project-routes.js";
import type { ApiClient } from "./api-client.js";
import { CliError } from "./connect.js";

export type ProjectDto = ReturnType<typeof toProjectDto>;

/** The CLI names projects by name (or id); the API by id. */
export async function resolveProject(client: ApiClient, nameOrId: string): Promise<ProjectDto> {
  const { projects } = await client.request<{ projects: ProjectDto[] }>("GET", "/api/projects");
  const found = projects.find((p) => p.name === nameOrId) ?? projects.find((p) => p.id === nameOrId);
  if (!found) throw new CliError(`No project named "${nameOrId}": see \`fineflow project list\`.`);
  return found;
}
