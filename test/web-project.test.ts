import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./helpers/browser.js";
import { startServer } from "./helpers/run-cli.js";

let dir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;

const GUIDE = `# Billing guide

## Invoices

An invoice is the monthly statement of what a workspace used. Invoices are issued on the first day of each
month and can be downloaded as PDF from the Billing page.

## Refunds

A refund is money returned to the card that paid. To request a refund:

1. Open the Billing page.
2. Choose the invoice.
3. Click "Request refund" and give the reason.

Refunds reach the card within ten working days.
`;

const SECURITY = `# Security guide

## Single sign-on

Single sign-on (SSO) lets members sign in with the company's identity provider instead of a password.
Owners turn it on under Settings, then Security, by entering the provider's metadata URL.

## Sessions

A session lasts twelve hours. Owners can end every member's sessions at once from the Security page.
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fineflow-web-project-"));
  await writeFile(join(dir, "billing.md"), GUIDE);
  await writeFile(join(dir, "security.md"), SECURITY);
  server = await startServer({ FINEFLOW_DATA_DIR: join(dir, "data") });
  browser = await launchBrowser();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  server?.child.kill("SIGTERM");
  if (server) await new Promise((resolve) => server.child.once("exit", resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("a project's page", { timeout: 90_000 }, () => {
  it("uploads documents, generates a dataset offline, validates it and downloads its export", async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(server.loginLink ?? "");
    const newProject = page.getByRole("form", { name: "New project" });
    await newProject.getByLabel("Name").fill("Help center");
    await newProject.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("link", { name: "Help center" }).click();
    await page.getByRole("heading", { name: "Help center", level: 1 }).waitFor();

    // Both files upload at once and are processed in the background; the page follows them to ready.
    const uploadForm = page.getByRole("form", { name: "Upload documents" });
    await uploadForm.getByLabel("Files").setInputFiles([join(dir, "billing.md"), join(dir, "security.md")]);
    await uploadForm.getByRole("button", { name: "Upload" }).click();
    const documents = page.getByRole("region", { name: "Documents" });
    for (const name of ["billing.md", "security.md"]) {
      await documents.getByRole("row").filter({ hasText: name }).filter({ hasText: "ready" }).waitFor();
    }
    const billingRow = documents.getByRole("row").filter({ hasText: "billing.md" });
    expect(Number(await billingRow.getByRole("cell").nth(2).textContent())).toBeGreaterThan(0);

    const datasetForm = page.getByRole("form", { name: "New dataset" });
    await datasetForm.getByLabel("Name").fill("faq");
    await datasetForm.getByLabel("Generator").selectOption("extractive");
    await datasetForm.getByRole("button", { name: "Generate dataset" }).click();
    const dataset = page.getByRole("listitem", { name: "Dataset faq" });
    await dataset.getByText(/— ready/).waitFor();
    expect(await dataset.textContent()).toMatch(/\d+\/\d+ chunks, [1-9]\d* pairs/);

    // So few pairs are not enough for a fine-tuning job: the panel says so, naming the rule.
    await dataset.getByRole("button", { name: "Validate" }).click();
    const verdict = dataset.getByRole("status", { name: "Validation" });
    await verdict.waitFor();
    expect(await verdict.textContent()).toMatch(/^Not valid for gpt-4o-mini-2024-07-18: \d+ pairs/);
    expect(await verdict.getByRole("list", { name: "Errors" }).textContent()).toMatch(/at least 10/);

    await dataset.getByLabel("Export format").selectOption("sharegpt");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      dataset.getByRole("link", { name: "Download JSONL" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("faq.sharegpt.jsonl");
    const file = join(dir, "faq.jsonl");
    await download.saveAs(file);
    const lines = (await readFile(file, "utf8")).split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const record = JSON.parse(line) as { conversations: { from: string; value: string }[] };
      expect(record.conversations.map((m) => m.from)).toEqual(["human", "gpt"]);
    }
    await context.close();
  });
});
