import type { toDocumentDto } from "../server/routes/document-routes.js";
import type { ApiClient } from "./api-client.js";
import { CliError } from "./connect.js";
import { shellWord } from "./output.js";
import type { ProjectDto } from "./resolve-project.js";

export type DocumentDto = ReturnType<typeof toDocumentDto>;

export async function projectDocuments(client: ApiClient, projectId: string): Promise<DocumentDto[]> {
  const { documents } = await client.request<{ documents: DocumentDto[] }>(
    "GET",
    `/api/projects/${projectId}/documents`,
  );
  return documents;
}

/**
 * The CLI names documents as `documents list` shows them (their path under the folder ingested), or by id.
 * Two documents can share a name: a changed file's new version stays beside the earlier one until it is
 * processed, and for good if it fails. Taking the first of them deleted the ready version where the failed
 * one was meant, so a shared name is refused and the id, which always works, asked for.
 */
export function findDocument(project: ProjectDto, documents: DocumentDto[], nameOrId: string): DocumentDto {
  const byId = documents.find((d) => d.id === nameOrId);
  if (byId) return byId;
  // Stored composed (NFC), whichever way the name is typed.
  const named = documents.filter((d) => d.name === nameOrId.normalize("NFC"));
  const list = `\`fineflow documents list --project ${shellWord(project.name)}\``;
  if (named.length > 1) {
    throw new CliError(
      `${named.length} documents in project "${project.name}" are named "${nameOrId}": ` +
        `give the id of the one you mean (see ${list}).`,
    );
  }
  const [only] = named;
  if (only) return only;
  throw new CliError(`No document "${nameOrId}" in project "${project.name}": see ${list}.`);
}

/** The ids of documents named as `findDocument` takes them. */
export async function documentIds(
  client: ApiClient,
  project: ProjectDto,
  namesOrIds: string[],
): Promise<string[]> {
  const documents = await projectDocuments(client, project.id);
  return namesOrIds.map((nameOrId) => findDocument(project, documents, nameOrId).id);
}
