import type { toDatasetDto } from "../server/routes/dataset-routes.js";
import type { ApiClient } from "./api-client.js";
import { CliError } from "./connect.js";
import { resolveProject } from "./resolve-project.js";

export type DatasetDto = ReturnType<typeof toDatasetDto>;

/** The CLI names datasets by name (or id), with `--project` when two projects use the same name. */
export async function resolveDataset(
  client: ApiClient,
  nameOrId: string,
  project?: string,
): Promise<DatasetDto> {
  const projectId = project ? (await resolveProject(client, project)).id : undefined;
  const { datasets } = await client.request<{ datasets: DatasetDto[] }>("GET", "/api/datasets");
  const inScope = datasets.filter((d) => !projectId || d.projectId === projectId);
  const byName = inScope.filter((d) => d.name === nameOrId);
  if (byName.length > 1) {
    throw new CliError(`Several projects have a dataset named "${nameOrId}": add --project <name>.`);
  }
  const found = byName[0] ?? inScope.find((d) => d.id === nameOrId);
  if (!found)
    throw new CliError(`No dataset named "${nameOrId}": see \`fineflow datasets list --project <name>\`.`);
  return found;
}
