import type { ChildProcess } from "node:child_process";
import type { Browser, BrowserContext } from "playwright-core";
import { expect } from "vitest";

/**
 * A browser context signed in through a one-time link. Its actions wait longer than the pages' 5 s refresh
 * while idle, which some steps wait for.
 */
export async function signedInContext(browser: Browser, link: string): Promise<BrowserContext> {
  const context = await browser.newContext({ acceptDownloads: true });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await page.close();
  return context;
}

/** Stops a test's `fineflow serve` and waits until it has let its database go. */
export async function stopServer(server: { child: ChildProcess } | undefined) {
  if (!server) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

/** A project made through the API as the context's user; its id. */
export async function createProject(context: BrowserContext, url: string, name: string): Promise<string> {
  const created = await context.request.post(`${url}/api/projects`, { data: { name } });
  expect(created.status()).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

/** A dataset of these question/answer pairs, imported as a file: ready at once, its pairs in this order. */
export async function importPairs(
  context: BrowserContext,
  url: string,
  projectId: string,
  name: string,
  pairs: [string, string][],
): Promise<string> {
  const imported = await context.request.post(`${url}/api/projects/${projectId}/datasets/import`, {
    multipart: {
      file: { name: `${name}.jsonl`, mimeType: "application/jsonl", buffer: pairsJsonl(pairs) },
      datasetName: name,
    },
  });
  expect(imported.status()).toBe(201);
  return ((await imported.json()) as { id: string }).id;
}

/** Question/answer pairs as an OpenAI chat JSONL file. */
export const pairsJsonl = (pairs: [string, string][]) =>
  Buffer.from(
    pairs
      .map(([question, answer]) =>
        JSON.stringify({
          messages: [
            { role: "user", content: question },
            { role: "assistant", content: answer },
          ],
        }),
      )
      .join("\n"),
  );

/** `count` pairs about services and their ports, numbered from 1. */
export const numbered = (count: number): [string, string][] =>
  Array.from({ length: count }, (_, i) => [
    `Which port does service ${i + 1} listen on?`,
    `Service ${i + 1} listens on port ${8000 + i + 1}.`,
  ]);
