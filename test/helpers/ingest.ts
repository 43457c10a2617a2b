import type { ApiCall, TestApp } from "./test-app.js";

/** Uploads files to a project through the API and waits until the worker has processed them all. */
export async function ingestFiles(
  t: TestApp,
  token: string,
  projectId: string,
  files: Record<string, string>,
) {
  const form = new FormData();
  for (const [name, content] of Object.entries(files)) form.append("files", new Blob([content]), name);
  const response = await t.app.request(`/api/projects/${projectId}/documents`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  if (response.status !== 201) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  for (let i = 0; i < 300; i++) {
    const list = await t.app.request(`/api/projects/${projectId}/documents`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { documents } = (await list.json()) as {
      documents: { id: string; name: string; status: string; chunkCount: number }[];
    };
    if (documents.every((d) => d.status === "ready" || d.status === "failed")) return documents;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("documents were not processed");
}

/** Polls a dataset until it stops generating. */
export async function settledDataset(call: ApiCall, id: string) {
  for (let i = 0; i < 600; i++) {
    const { body } = await call("GET", `/api/datasets/${id}`);
    if (body.status !== "generating") return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`dataset ${id} is still generating`);
}
