import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./helpers/browser.js";
import { startServer } from "./helpers/run-cli.js";

interface Project {
  id: string;
  name: string;
  monthlyBudgetUsd: number | null;
  chunkTargetTokens: number;
  chunkOverlapTokens: number;
  duplicateThreshold: number;
}

let dataDir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
/** Signed in once: the printed sign-in link works one time. */
let context: BrowserContext;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-web-settings-"));
  server = await startServer({ FINEFLOW_DATA_DIR: dataDir });
  browser = await launchBrowser();
  context = await browser.newContext();
  // A missing field fails in seconds rather than at the test's timeout.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.goto(server.loginLink ?? "");
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await page.close();
});
afterAll(async () => {
  await browser?.close();
  server?.child.kill("SIGTERM");
  if (server) await new Promise((resolve) => server.child.once("exit", resolve));
  await rm(dataDir, { recursive: true, force: true });
});

/** What the server holds, asked with the browser's cookie. */
async function stored(id: string): Promise<Project> {
  const response = await context.request.get(`${server.url}/api/projects/${id}`);
  expect(response.status()).toBe(200);
  return (await response.json()) as Project;
}

async function createProject(data: Record<string, unknown>): Promise<Project> {
  const response = await context.request.post(`${server.url}/api/projects`, { data });
  expect(response.status()).toBe(201);
  return (await response.json()) as Project;
}

/** The settings form of the project page shown, once loaded. */
async function settingsOf(page: Page) {
  const settings = page.getByRole("form", { name: "Project settings" });
  await settings.waitFor();
  return settings;
}

async function openSettings(page: Page, id: string) {
  await page.goto(`${server.url}/#project/${id}`);
  return settingsOf(page);
}

describe("a project's settings in the web app", { timeout: 60_000 }, () => {
  it("creates a project with a chunk target and a blank overlap: the server derives the overlap", async () => {
    const page = await context.newPage();
    await page.goto(server.url);
    const form = page.getByRole("form", { name: "New project" });
    await form.getByLabel("Name").fill("Glossary");
    await form.getByLabel("Chunk target (tokens)").fill("64");
    await form.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("link", { name: "Glossary" }).click();

    const settings = page.getByRole("form", { name: "Project settings" });
    // 50 of 512 is the defaults' share: 6 of 64.
    expect(await settings.getByLabel("Chunk target (tokens)").inputValue()).toBe("64");
    expect(await settings.getByLabel("Chunk overlap (tokens)").inputValue()).toBe("6");
    await page.close();
  });

  it("saves only the changed chunking and name, shown by the API, the page and a reload of it", async () => {
    const project = await createProject({ name: "Handbook", monthlyBudgetUsd: 30 });
    const page = await context.newPage();
    const settings = await openSettings(page, project.id);
    expect(await settings.textContent()).toContain("applies to documents processed from now on");

    await settings.getByLabel("Name").fill("Staff handbook");
    await settings.getByLabel("Chunk target (tokens)").fill("256");
    await settings.getByLabel("Chunk overlap (tokens)").fill("20");
    const patch = page.waitForRequest((request) => request.method() === "PATCH");
    await settings.getByRole("button", { name: "Save settings" }).click();
    expect((await patch).postDataJSON()).toEqual({
      name: "Staff handbook",
      chunkTargetTokens: 256,
      chunkOverlapTokens: 20,
    });
    await page.getByRole("heading", { name: "Staff handbook", level: 1 }).waitFor();
    await settings.getByRole("status").filter({ hasText: "Saved." }).waitFor();

    expect(await stored(project.id)).toMatchObject({
      name: "Staff handbook",
      monthlyBudgetUsd: 30,
      chunkTargetTokens: 256,
      chunkOverlapTokens: 20,
      duplicateThreshold: project.duplicateThreshold,
    });
    await page.reload();
    const reloaded = await settingsOf(page);
    expect(await reloaded.getByLabel("Chunk target (tokens)").inputValue()).toBe("256");
    expect(await reloaded.getByLabel("Chunk overlap (tokens)").inputValue()).toBe("20");
    await page.close();
  });

  it("refuses an overlap of half the target: the alert names the fields by their labels, nothing is stored", async () => {
    const project = await createProject({ name: "Policies", chunkTargetTokens: 100, chunkOverlapTokens: 10 });
    const page = await context.newPage();
    const settings = await openSettings(page, project.id);

    await settings.getByLabel("Chunk target (tokens)").fill("200");
    await settings.getByLabel("Chunk overlap (tokens)").fill("100");
    await settings.getByRole("button", { name: "Save settings" }).click();
    // In the form's words, not the API's field names.
    expect(await settings.getByRole("alert").textContent()).toBe(
      "Chunk overlap: must be less than half of Chunk target (200)",
    );

    expect(await stored(project.id)).toMatchObject({ chunkTargetTokens: 100, chunkOverlapTokens: 10 });
    // What was typed stays, to be corrected.
    expect(await settings.getByLabel("Chunk overlap (tokens)").inputValue()).toBe("100");
    await page.close();
  });

  it("saves an emptied budget as no budget", async () => {
    const project = await createProject({ name: "Budgeted", monthlyBudgetUsd: 12.5 });
    const page = await context.newPage();
    const settings = await openSettings(page, project.id);
    expect(await settings.getByLabel("Monthly budget (USD)").inputValue()).toBe("12.5");

    await settings.getByLabel("Monthly budget (USD)").fill("");
    await settings.getByRole("button", { name: "Save settings" }).click();
    await settings.getByRole("status").filter({ hasText: "Saved." }).waitFor();

    expect((await stored(project.id)).monthlyBudgetUsd).toBeNull();
    expect(await settings.getByLabel("Monthly budget (USD)").inputValue()).toBe("");
    await page.close();
  });
});
