import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser } from "./helpers/browser.js";
import { startServer } from "./helpers/run-cli.js";

let dataDir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-web-"));
  server = await startServer({ FINEFLOW_DATA_DIR: dataDir });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  server?.child.kill("SIGTERM");
  if (server) await new Promise((resolve) => server.child.once("exit", resolve));
  await rm(dataDir, { recursive: true, force: true });
});

it("signs the local owner in by the printed link, then creates and lists a project in the browser", async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.getByRole("heading", { name: "Sign in to FineFlow" }).waitFor();

  await page.goto(server.loginLink ?? "");
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  expect(await page.getByText("No projects yet.").isVisible()).toBe(true);

  const form = page.getByRole("form", { name: "New project" });
  await form.getByLabel("Name").fill("Handbook");
  await form.getByLabel("Monthly budget (USD)").fill("30");
  await form.getByLabel("When over budget").selectOption("block");
  await form.getByRole("button", { name: "Create project" }).click();
  await page.getByText("$30.00/month (block)").waitFor();

  await form.getByLabel("Name").fill("Handbook");
  await form.getByRole("button", { name: "Create project" }).click();
  expect(await page.getByRole("alert").textContent()).toContain('already have a project named "Handbook"');

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to FineFlow" }).waitFor();
  await page.close();
});
