import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeFineTuningServer,
  startFakeOpenAiFineTuningServer,
} from "./fakes/openai-fine-tuning-server.js";
import { launchBrowser } from "./helpers/browser.js";
import { startServer } from "./helpers/run-cli.js";

const KEY = "sk-test-fineflow-web";
const MINI = "gpt-4o-mini-2024-07-18";

let dataDir: string;
let fake: FakeFineTuningServer;
let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
let context: BrowserContext;

/** 12 distinct chat pairs, in OpenAI's format. */
const PAIRS = Array.from({ length: 12 }, (_, i) =>
  JSON.stringify({
    messages: [
      { role: "user", content: `Which port does service ${i} listen on?` },
      { role: "assistant", content: `Service ${i} listens on port ${8000 + i}.` },
    ],
  }),
).join("\n");

/** A project with a tiny budget and a ready dataset, made through the HTTP API with the browser's cookie. */
async function projectWithDataset(page: Page, name: string, budgetEnforcement: "warn" | "block") {
  const created = await page.request.post(`${server.url}/api/projects`, {
    data: { name, monthlyBudgetUsd: 0.0001, budgetEnforcement },
  });
  expect(created.status()).toBe(201);
  const project = (await created.json()) as { id: string };
  const imported = await page.request.post(`${server.url}/api/projects/${project.id}/datasets/import`, {
    multipart: {
      file: { name: "chats.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(PAIRS) },
      datasetName: "chats",
      format: "openai",
    },
  });
  expect(imported.status()).toBe(201);
}

/** The Training page, reached from the header's nav. */
async function openTraining(page: Page) {
  await page.goto(server.url);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Training" }).click();
  await page.getByRole("heading", { name: "Training", level: 1 }).waitFor();
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-web-training-"));
  // Short validating and queued phases: the test's clock spends its time on the training steps.
  fake = await startFakeOpenAiFineTuningServer({
    apiKeys: [KEY],
    schedule: { validatingSeconds: 2, queuedSeconds: 2 },
  });
  server = await startServer({
    FINEFLOW_DATA_DIR: dataDir,
    OPENAI_BASE_URL: fake.baseURL,
    FINEFLOW_TRAINING_POLL_SECONDS: "0.2",
  });
  browser = await launchBrowser();
  context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.loginLink ?? "");
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await projectWithDataset(page, "Support", "warn");
  await projectWithDataset(page, "Strict", "block");
  await page.close();
});
afterAll(async () => {
  await browser?.close();
  server?.child.kill("SIGTERM");
  if (server) await new Promise((resolve) => server.child.once("exit", resolve));
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe("the Training page", { timeout: 60_000 }, () => {
  it("refuses to start over a block budget: the preview says why and Start is disabled", async () => {
    const page = await context.newPage();
    await openTraining(page);
    const form = page.getByRole("form", { name: "Start training" });
    await form.getByLabel("Dataset").selectOption({ label: "Strict / chats" });
    await form.getByRole("button", { name: "Preview cost" }).click();

    const dialog = page.getByRole("dialog", { name: "Cost preview" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("$0.0001 (block)");
    expect(await dialog.textContent()).toContain("Blocked by the budget (block)");
    expect(await dialog.textContent()).toContain("OpenAI stops accepting new fine-tuning jobs on 2027-01-06");
    expect(await dialog.textContent()).toMatch(/Billed tokens[\d,]+ tokens × \d+ epochs? \(auto\)/);
    expect(await dialog.getByRole("button", { name: "Start training" }).isDisabled()).toBe(true);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.close();
  });

  it("sets the key, previews over a warn budget, starts anyway and follows the job live to completed", async () => {
    const page = await context.newPage();
    await openTraining(page);

    // The key: only its last four characters come back, and the key is nowhere in the page.
    const keyForm = page.getByRole("form", { name: "OpenAI API key" });
    await keyForm.getByLabel("OpenAI API key").fill(KEY);
    await keyForm.getByRole("button", { name: "Save key" }).click();
    await page
      .getByTestId("key-status-openai")
      .getByText(`set (ends in ${KEY.slice(-4)})`)
      .waitFor();
    expect(await keyForm.getByLabel("OpenAI API key").inputValue()).toBe("");
    expect(await page.content()).not.toContain(KEY);

    // The preview: an estimate in dollars beside the month's spend and the budget.
    const form = page.getByRole("form", { name: "Start training" });
    await form.getByLabel("Dataset").selectOption({ label: "Support / chats" });
    expect(await form.getByLabel("Base model").inputValue()).toBe(MINI);
    await form.getByRole("button", { name: "Preview cost" }).click();
    const dialog = page.getByRole("dialog", { name: "Cost preview" });
    await dialog.waitFor();
    expect(await dialog.getByTestId("estimated-cost").textContent()).toMatch(
      /^\$0\.0*[1-9]\d* at \$3\.00 per 1M/,
    );
    const text = await dialog.textContent();
    expect(text).toContain("Spent this month$0.00");
    expect(text).toContain("Monthly budget$0.0001 (warn)");
    expect(text).toMatch(/Projected total\$0\.\d+/);
    expect(text).toContain("Over budget (warn)");

    // Start anyway, then watch the job go by without a reload while the provider's clock moves.
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await dialog.getByRole("button", { name: "Start anyway" }).click();
    await dialog.waitFor({ state: "detached" });
    const job = page.getByRole("list", { name: "Training jobs" }).getByRole("listitem").first();
    await job.getByRole("heading", { name: new RegExp(MINI) }).waitFor();

    // 96 steps (12 examples × 8 epochs): about 2.5 s of wall time, a few polls and curve redraws.
    const ticking = setInterval(() => fake.advance(2), 50);
    try {
      await page.locator('li[data-status="training"]').waitFor({ timeout: 30_000 });
      await job.getByRole("img", { name: /^Loss curve: train loss/ }).waitFor({ timeout: 30_000 });
      await page.locator('li[data-status="completed"]').waitFor({ timeout: 30_000 });
    } finally {
      clearInterval(ticking);
    }
    expect(await job.locator("progress").evaluate((el) => (el as HTMLProgressElement).value)).toBe(100);
    expect(await job.textContent()).toContain("100%");
    expect(await job.locator("code").textContent()).toMatch(new RegExp(`^ft:${MINI}:`));
    expect(await job.textContent()).toMatch(/Cost: estimated \$0\.\d+, actual \$0\.\d+/);
    expect(await job.getByRole("button", { name: "Cancel" }).count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    await page.close();
  });
});
