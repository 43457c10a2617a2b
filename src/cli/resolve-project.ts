import { isUuid } from "../core/ids.js";
import type { toProjectDto } from "../server/routes/project-routes.js";
import { type ApiClient, ApiError } from "./api-client.js";
import { CliError } from "./connect.js";

export type ProjectDto = ReturnType<typeof toProjectDto>;

/** The CLI names projects by name (or id); the API by id. */
async function findProject(client: ApiClient, nameOrId: string): Promise<ProjectDto | undefined> {
  const { projects } = await client.request<{ projects: ProjectDto[] }>("GET", "/api/projects");
  return projects.find((p) => p.name === nameOrId) ?? projects.find((p) => p.id === nameOrId);
}

const noProject = (nameOrId: string) =>
  new CliError(
    `No project named "${nameOrId}": create it with \`fineflow project create ${nameOrId}\`, ` +
      "or see `fineflow project list`.",
  );

export async function resolveProject(client: ApiClient, nameOrId: string): Promise<ProjectDto> {
  const found = await findProject(client, nameOrId);
  if (!found) throw noProject(nameOrId);
  return found;
}

/**
 * The project, created with default settings when there is none of that name: a first `fineflow ingest`
 * needs no other step. An id names an existing project only, so a mistyped one is not taken for a name.
 */
export async function resolveOrCreateProject(
  client: ApiClient,
  name: string,
): Promise<{ project: ProjectDto; created: boolean }> {
  const found = await findProject(client, name);
  if (found) return { project: found, created: false };
  if (isUuid(name)) throw noProject(name);
  try {
    return { project: await client.request<ProjectDto>("POST", "/api/projects", { name }), created: true };
  } catch (error) {
    // Another command created it in the meantime.
    if (error instanceof ApiError && error.status === 409) {
      return { project: await resolveProject(client, name), created: false };
    }
    throw error;
  }
}
