import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Download, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeChatServer, startFakeChatServer } from "./fakes/chat-completions-server.js";
import { launchBrowser } from "./helpers/browser.js";
import { runCli, startServer } from "./helpers/run-cli.js";
import {
  createProject,
  importPairs,
  numbered,
  pairsJsonl,
  signedInContext,
  stopServer,
} from "./helpers/web-session.js";

/**
 * What the web app can do that the CLI and API could before it: import, cancel, the New dataset form's
 * options, validation and export on the dataset's page, refusals in the forms' words, downloads that fail
 * aloud. The server has no LLM endpoint of its own; a test that needs one sets the user's.
 */

let dir: string;
let env: Record<string, string>;
let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
let llm: FakeChatServer;
/** Signed in once: the printed sign-in link works one time. */
let context: BrowserContext;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fineflow-web-dataset-tools-"));
  // The first request of each dataset is answered, the others hang: a dataset that generates until cancelled.
  llm = await startFakeChatServer({
    respond: (_request, { requestIndex }) =>
      requestIndex % 100 === 0
        ? {
            content: JSON.stringify({
              mode: "qa",
              pairs: [
                {
                  messages: [
                    { role: "user", content: `What does step ${requestIndex} of the rollout do?` },
                    { role: "assistant", content: "It moves one more region to the new cluster." },
                  ],
                },
              ],
            }),
          }
        : { hang: true },
  });
  env = { FINEFLOW_DATA_DIR: join(dir, "data") };
  server = await startServer(env);
  browser = await launchBrowser();
  context = await signedInContext(browser, server.loginLink ?? "");
}, 90_000);
afterAll(async () => {
  await browser?.close();
  // First: the hung requests end with it, so the server's workers do not hold up its exit.
  await llm?.close();
  await stopServer(server);
  await rm(dir, { recursive: true, force: true });
});

const newProject = (name: string) => createProject(context, server.url, name);
const importDataset = (projectId: string, name: string, pairs: [string, string][]) =>
  importPairs(context, server.url, projectId, name, pairs);

/** Uploads Markdown documents and waits until each is processed. */
async function addDocuments(projectId: string, files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) {
    const sent = await context.request.post(`${server.url}/api/projects/${projectId}/documents`, {
      multipart: { files: { name, mimeType: "text/markdown", buffer: Buffer.from(text) } },
    });
    expect(sent.status()).toBe(201);
  }
  for (;;) {
    const listed = await context.request.get(`${server.url}/api/projects/${projectId}/documents`);
    const { documents } = (await listed.json()) as { documents: { status: string }[] };
    if (documents.every((d) => d.status === "ready")) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function pairCount(datasetId: string): Promise<number> {
  const listed = await context.request.get(`${server.url}/api/datasets/${datasetId}/pairs?limit=1`);
  return ((await listed.json()) as { total: number }).total;
}

async function openProject(page: Page, projectId: string) {
  await page.goto(`${server.url}/#project/${projectId}`);
  await page.getByRole("region", { name: "Datasets" }).waitFor();
}

/** The lines of a downloaded JSONL file. */
async function linesOf(download: Download): Promise<string[]> {
  const file = join(dir, download.suggestedFilename());
  await download.saveAs(file);
  return (await readFile(file, "utf8")).split("\n").filter(Boolean);
}

const ROLLOUT = ["One", "Two", "Three", "Four", "Five"]
  .map((step) => `# Step ${step}\n\nStep ${step.toLowerCase()} moves one more region to the new cluster.\n`)
  .join("\n");

describe("datasets in the web app", { timeout: 90_000 }, () => {
  it("imports a JSONL file from the project's page, says the line refused, and offers it for training", async () => {
    const projectId = await newProject("Imports");
    const page = await context.newPage();
    await openProject(page, projectId);
    const form = page.getByRole("form", { name: "Import dataset" });

    // One bad line and nothing is imported: the refusal names it, beside the form.
    const bad = Buffer.from(
      `${pairsJsonl(numbered(1))}\n${JSON.stringify({
        messages: [
          { role: "user", content: "Hi?" },
          { role: "assistant", content: "" },
        ],
      })}`,
    );
    await form
      .getByLabel("File", { exact: true })
      .setInputFiles({ name: "bad.jsonl", mimeType: "application/jsonl", buffer: bad });
    await form.getByLabel("Name").fill("ports");
    await form.getByRole("button", { name: "Import dataset" }).click();
    await form
      .getByRole("alert")
      .getByText(/nothing was imported\. line 2: messages\[1\]\.content: must not be empty/)
      .waitFor();
    expect(await page.getByRole("listitem", { name: "Dataset ports" }).count()).toBe(0);

    // In another format, told from the file.
    const sharegpt = numbered(3)
      .map(([q, a]) =>
        JSON.stringify({
          conversations: [
            { from: "human", value: q },
            { from: "gpt", value: a },
          ],
        }),
      )
      .join("\n");
    await form
      .getByLabel("File", { exact: true })
      .setInputFiles({ name: "ports.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(sharegpt) });
    await form.getByRole("button", { name: "Import dataset" }).click();
    const item = page.getByRole("listitem", { name: "Dataset ports" });
    await item.getByText(/— ready/).waitFor();
    expect(await item.textContent()).toContain("3 pairs");
    expect(await form.getByRole("alert").count()).toBe(0);

    // The Training page's "generate or import one in a project first" holds.
    await page.goto(`${server.url}/#training`);
    const dataset = page.getByRole("form", { name: "Start training" }).getByLabel("Dataset");
    // An option of a closed select is not visible, only there.
    await dataset.locator("option", { hasText: "Imports / ports" }).waitFor({ state: "attached" });
    await page.close();
  });

  it("generates with the New dataset form's options, and says refusals in the form's words", async () => {
    const projectId = await newProject("Options");
    await addDocuments(projectId, { "rollout.md": ROLLOUT, "other.md": "# Other\n\nNothing to see here.\n" });
    const chunks = await context.request.get(`${server.url}/api/projects/${projectId}/documents`);
    const documents = (
      (await chunks.json()) as { documents: { id: string; name: string; chunkCount: number }[] }
    ).documents;
    const rollout = documents.find((d) => d.name === "rollout.md");
    const page = await context.newPage();
    await openProject(page, projectId);
    const form = page.getByRole("form", { name: "New dataset" });

    // A blank name, refused by the API: named by its label, not as `datasetName`.
    await form.getByLabel("Name").fill("   ");
    await form.getByRole("button", { name: "Generate dataset" }).click();
    await form.getByRole("alert").getByText("Name: must not be empty", { exact: true }).waitFor();

    // No LLM endpoint anywhere: the web user is told who sets one, not only the CLI's command.
    await form.getByLabel("Name").fill("with a model");
    await form.getByLabel("Generator").selectOption("llm");
    await form.getByRole("button", { name: "Generate dataset" }).click();
    const noLlm = form.getByRole("alert");
    await noLlm.getByText(/FINEFLOW_LLM_BASE_URL/).waitFor();
    expect(await noLlm.textContent()).toMatch(
      /^Generator: no LLM endpoint is configured, and the web app has no/,
    );

    await form.getByLabel("Name").fill("steps");
    await form.getByLabel("Generator").selectOption("extractive");
    await form.getByLabel("System prompt").fill("Answer from the runbook only.");
    await form
      .getByRole("group", { name: /^Only these documents/ })
      .getByLabel("rollout.md")
      .check();
    await form.getByLabel("Minimum chunk quality").fill("0.1");
    const perChunk = form.getByLabel("Pairs per chunk");
    expect([await perChunk.getAttribute("min"), await perChunk.getAttribute("max")]).toEqual(["1", "10"]);
    await perChunk.fill("2");
    await form.getByLabel("Include chunks flagged for injection").check();
    const [sent] = await Promise.all([
      page.waitForRequest(
        (r) => r.method() === "POST" && r.url().endsWith(`/api/projects/${projectId}/datasets`),
      ),
      form.getByRole("button", { name: "Generate dataset" }).click(),
    ]);
    expect(sent.postDataJSON()).toEqual({
      datasetName: "steps",
      mode: "auto",
      format: "openai",
      generator: "extractive",
      systemPrompt: "Answer from the runbook only.",
      documentIds: [rollout?.id],
      minQuality: 0.1,
      pairsPerChunk: 2,
      includeFlagged: true,
    });
    const item = page.getByRole("listitem", { name: "Dataset steps" });
    await item.getByText(/— ready/).waitFor();
    // Only the chosen document's chunks.
    expect(await item.textContent()).toContain(`${rollout?.chunkCount}/${rollout?.chunkCount} chunks`);
    expect(await form.getByRole("alert").count()).toBe(0);
    await page.close();
  });

  it("cancels a generating dataset from the project's page and from its own, keeping the pairs made", async () => {
    const projectId = await newProject("Cancel");
    await addDocuments(projectId, { "rollout.md": ROLLOUT });
    const endpoint = await context.request.put(`${server.url}/api/llm-endpoint`, {
      data: { baseUrl: `${llm.url}/v1`, model: "gpt-4o-mini" },
    });
    expect(endpoint.status()).toBe(200);
    try {
      const page = await context.newPage();
      await openProject(page, projectId);
      const form = page.getByRole("form", { name: "New dataset" });
      await form.getByLabel("Name").fill("first");
      await form.getByLabel("Generator").selectOption("llm");
      // The fake answers the first request of each hundred: this dataset's first chunk, then it hangs.
      llm.requests.length = 0;
      await form.getByRole("button", { name: "Generate dataset" }).click();
      const item = page.getByRole("listitem", { name: "Dataset first" });
      await item.getByText(/— generating .*, 1 pair\)/).waitFor();
      await item.getByText("the pairs made so far are kept").waitFor();
      await item.getByRole("button", { name: "Cancel generating first" }).click();
      await item
        .getByRole("status")
        .getByText("Generation cancelled: the 1 pair made so far is kept.")
        .waitFor();
      await item.getByText(/— ready/).waitFor();
      expect(await item.getByRole("button", { name: /^Cancel generating/ }).count()).toBe(0);
      const datasets = await context.request.get(`${server.url}/api/projects/${projectId}/datasets`);
      const first = ((await datasets.json()) as { datasets: { id: string; status: string }[] }).datasets[0];
      expect(first?.status).toBe("ready");
      expect(await pairCount(first?.id ?? "")).toBe(1);

      // From the dataset's own page.
      llm.requests.length = 0;
      const started = await context.request.post(`${server.url}/api/projects/${projectId}/datasets`, {
        data: { datasetName: "second", generator: "llm" },
      });
      const { id } = (await started.json()) as { id: string };
      await page.goto(`${server.url}/#dataset/${id}`);
      await page.getByText(/^generating \(.*, 1 pair\)/).waitFor();
      await page.getByRole("button", { name: "Cancel generating second" }).click();
      await page
        .getByRole("status")
        .getByText("Generation cancelled: the 1 pair made so far is kept.")
        .waitFor();
      await page.getByText(/^ready \(/).waitFor();
      expect(await pairCount(id)).toBe(1);
      await page.close();
    } finally {
      await context.request.delete(`${server.url}/api/llm-endpoint`);
    }
  });

  it("validates for a chosen model and exports with the API's options on the dataset's page", async () => {
    const projectId = await newProject("Export");
    // Pair 12 repeats pair 1: an exact duplicate, an error naming it.
    const pairs = numbered(11);
    const datasetId = await importDataset(projectId, "ports", [...pairs, pairs[0] as [string, string]]);
    const page = await context.newPage();
    await page.goto(`${server.url}/#dataset/${datasetId}`);
    const tools = page.getByRole("region", { name: "Validation and export" });
    const model = tools.getByLabel("Base model");
    expect(await model.inputValue()).toBe("gpt-4o-mini-2024-07-18");
    expect(
      await tools.locator("datalist option").evaluateAll((o) => o.map((e) => e.getAttribute("value"))),
    ).toContain("gpt-3.5-turbo-0125");
    await model.fill("gpt-3.5-turbo-0125");
    await tools.getByRole("button", { name: "Validate" }).click();
    const verdict = tools.getByRole("status", { name: "Validation" });
    await verdict.getByText(/^Not valid for gpt-3.5-turbo-0125: 12 pairs/).waitFor();
    const note = tools.getByRole("status", { name: "Pairs with errors in ports" });
    expect(await note.textContent()).toBe(
      "The last validation (gpt-3.5-turbo-0125) found 1 pair with errors: left out unless included.",
    );

    // The id in the error is a button that finds its pair in the list below.
    const errors = verdict.getByRole("list", { name: "Errors" });
    const find = errors.getByRole("button", { name: /^Find pair [0-9a-f]{8}…$/ }).first();
    const shortId = (await find.textContent()) ?? "";
    await find.click();
    await page.getByRole("status", { name: "Pairs shown" }).getByText("Pairs 1–1 of 1").waitFor();
    expect(await page.getByRole("form", { name: "Filter pairs" }).getByLabel("Search").inputValue()).toBe(
      shortId,
    );
    expect(await page.getByRole("listitem", { name: /^Pair: / }).textContent()).toContain(`id ${shortId}`);

    const save = async (link: string) => {
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        tools.getByRole("link", { name: link }).click(),
      ]);
      return { name: download.suggestedFilename(), lines: await linesOf(download) };
    };
    const valid = await save("Download JSONL of ports");
    expect(valid.name).toBe("ports.openai.jsonl");
    expect(valid.lines).toHaveLength(11);
    await tools.getByLabel("Include pairs with errors").check();
    await note.getByText(/: included\.$/).waitFor();
    expect((await save("Download JSONL of ports")).lines).toHaveLength(12);

    // A split: two downloads, the pairs shared between them.
    await tools.getByLabel("Include pairs with errors").uncheck();
    await tools.getByLabel("Validation share").fill("0.25");
    const train = await save("Download training part of ports");
    const validation = await save("Download validation part of ports");
    expect(train.name).not.toBe(validation.name);
    expect(validation.lines.length).toBeGreaterThan(0);
    expect(train.lines.length + validation.lines.length).toBe(11);

    // A share the API refuses: said beside the links, in the field's words, rather than saved as the file.
    await tools.getByLabel("Validation share").fill("1.5");
    let downloaded = false;
    page.on("download", () => {
      downloaded = true;
    });
    await tools.getByRole("link", { name: "Download training part of ports" }).click();
    await tools
      .getByRole("alert")
      .getByText("Validation share: must be more than 0 and less than 1, e.g. 0.1", { exact: true })
      .waitFor();
    expect(downloaded).toBe(false);
    await page.close();
  });

  it("says pair refusals in the editor's words: the message's label, the system prompt's", async () => {
    const projectId = await newProject("Words");
    const datasetId = await importDataset(projectId, "answers", numbered(2));
    const page = await context.newPage();
    await page.goto(`${server.url}/#dataset/${datasetId}`);

    const card = page.getByRole("listitem", { name: "Pair: Which port does service 2 listen on?" });
    await card.getByRole("button", { name: "Edit pair" }).click();
    const editor = card.getByRole("form", { name: "Edit pair" });
    await editor.getByLabel("assistant").fill("");
    await editor.getByRole("button", { name: "Save" }).click();
    await editor.getByRole("alert").getByText("assistant: must not be empty", { exact: true }).waitFor();

    const add = page.getByRole("form", { name: "Add pair" });
    await add.getByLabel("Question").fill("   ");
    await add.getByLabel("Answer").fill("Port 9000.");
    await add.getByRole("button", { name: "Add pair" }).click();
    await add.getByRole("alert").getByText("Question: must not be empty", { exact: true }).waitFor();

    const prompt = page.getByRole("form", { name: "System prompt" });
    await prompt.getByRole("textbox").fill("x".repeat(10_001));
    await prompt.getByRole("button", { name: "Save system prompt" }).click();
    await prompt
      .getByRole("alert")
      .getByText("System prompt: must be at most 10,000 characters", { exact: true })
      .waitFor();
    await page.close();
  });

  it("says a download refused once the session is over, rather than saving the refusal as the file", async () => {
    const link = await runCli(["signin-link"], env);
    expect(link.code).toBe(0);
    const other = await signedInContext(browser, link.stdout.match(/: (\S+)\n$/)?.[1] ?? "");
    const projectId = await newProject("Session");
    await importDataset(projectId, "late", numbered(2));
    const page = await other.newPage();
    await openProject(page, projectId);
    const item = page.getByRole("listitem", { name: "Dataset late" });
    await item.getByRole("link", { name: "Download JSONL of late" }).waitFor();
    // Hidden, the page does not refresh: its refresh would find the session over before the download does.
    await page.evaluate(() => Object.defineProperty(document, "visibilityState", { value: "hidden" }));

    expect((await other.request.post(`${server.url}/api/auth/logout`)).status()).toBeLessThan(300);
    let downloaded = false;
    page.on("download", () => {
      downloaded = true;
    });
    await item.getByRole("link", { name: "Download JSONL of late" }).click();
    await page.getByRole("heading", { name: "Sign in to FineFlow" }).waitFor();
    expect(downloaded).toBe(false);
    await other.close();
  });
});
