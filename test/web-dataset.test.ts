import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeChatServer, startFakeChatServer } from "./fakes/chat-completions-server.js";
import { launchBrowser } from "./helpers/browser.js";
import { startServer } from "./helpers/run-cli.js";
import { createProject, importPairs, numbered, signedInContext, stopServer } from "./helpers/web-session.js";

interface Pair {
  id: string;
  messages: { role: string; content: string }[];
}

let dir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
let llm: FakeChatServer;
/** Signed in once: the printed sign-in link works one time. */
let context: BrowserContext;

/** How long the fake model takes over the requests from `slowFrom` on: long enough to look at the page. */
const HOLD_MS = 8000;
/** The index of the first of the fake model's requests to answer only after HOLD_MS; none by default. */
let slowFrom = Number.POSITIVE_INFINITY;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fineflow-web-dataset-"));
  llm = await startFakeChatServer({
    apiKey: "test-llm-key",
    respond: (_request, { requestIndex }) => {
      // The fake reads its latency once respond() has answered: this request's, set here.
      llm.setOptions({ latencyMs: requestIndex >= slowFrom ? HOLD_MS : 0 });
      const question = `What does step ${requestIndex} of the rollout do?`;
      const answer = `Step ${requestIndex} of the rollout moves one more region to the new cluster.`;
      const messages = [
        { role: "user", content: question },
        { role: "assistant", content: answer },
      ];
      return { content: JSON.stringify({ mode: "qa", pairs: [{ messages }] }) };
    },
  });
  server = await startServer({
    FINEFLOW_DATA_DIR: join(dir, "data"),
    FINEFLOW_LLM_BASE_URL: `${llm.url}/v1`,
    FINEFLOW_LLM_MODEL: "gpt-4o-mini",
    FINEFLOW_LLM_API_KEY: "test-llm-key",
  });
  browser = await launchBrowser();
  context = await signedInContext(browser, server.loginLink ?? "");
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await llm?.close();
  await stopServer(server);
  await rm(dir, { recursive: true, force: true });
});

const newProject = (name: string) => createProject(context, server.url, name);
const importDataset = (projectId: string, name: string, pairs: [string, string][]) =>
  importPairs(context, server.url, projectId, name, pairs);

async function pairsOf(datasetId: string): Promise<Pair[]> {
  const listed = await context.request.get(`${server.url}/api/datasets/${datasetId}/pairs?limit=500`);
  return ((await listed.json()) as { pairs: Pair[] }).pairs;
}

/** A pair's id as validation's messages print it. */
const short = (pair: Pair | undefined) => `${pair?.id.slice(0, 8)}…`;

async function openDataset(page: Page, datasetId: string, name: string) {
  await page.goto(`${server.url}/#dataset/${datasetId}`);
  await page.getByRole("heading", { name, level: 1 }).waitFor();
}

const pairCard = (page: Page, question: string) =>
  page.getByRole("listitem", { name: `Pair: ${question}`, exact: true });

/** The focused element's accessible name as the tests give it: its aria-label, else its text. */
const focused = (page: Page) =>
  page.evaluate(
    () => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent ?? "",
  );

describe("a dataset's page", { timeout: 90_000 }, () => {
  it("follows a dataset as it generates: its pairs locked, saying why, then unlocked once ready", async () => {
    const projectId = await newProject("Rollout");
    const doc =
      "# Step one\n\nThe first region moves on Monday.\n\n# Step two\n\nThe second region moves on Friday.\n";
    const sent = await context.request.post(`${server.url}/api/projects/${projectId}/documents`, {
      multipart: { files: { name: "rollout.md", mimeType: "text/markdown", buffer: Buffer.from(doc) } },
    });
    expect(sent.status()).toBe(201);
    for (;;) {
      const listed = await context.request.get(`${server.url}/api/projects/${projectId}/documents`);
      const [document] = ((await listed.json()) as { documents: { status: string; chunkCount: number }[] })
        .documents;
      if (document?.status === "ready") {
        expect(document.chunkCount).toBe(2); // a chunk answered at once, the other held
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // The second chunk's answer is held: the dataset generates for a while, with the first chunk's pair in it.
    slowFrom = llm.requests.length + 1;
    try {
      const started = await context.request.post(`${server.url}/api/projects/${projectId}/datasets`, {
        data: { datasetName: "rollout", mode: "qa", generator: "llm" },
      });
      expect(started.status()).toBe(202);
      const { id } = (await started.json()) as { id: string };
      const page = await context.newPage();
      await openDataset(page, id, "rollout");

      const lock = page.getByRole("status").filter({ hasText: /^Still generating: pairs can be edited/ });
      await lock.waitFor();
      const shown = page.getByRole("status", { name: "Pairs shown" });
      await shown.getByText("Pairs 1–1 of 1").waitFor();
      const card = page.getByRole("listitem", { name: /^Pair: / });
      for (const action of ["Edit pair", "Delete pair"]) {
        expect(await card.getByRole("button", { name: action }).isDisabled()).toBe(true);
      }
      const prompt = page.getByRole("form", { name: "System prompt" });
      expect(await prompt.getByRole("button", { name: "Save system prompt" }).isDisabled()).toBe(true);
      expect(await prompt.getByLabel(/System prompt/).isDisabled()).toBe(true);
      const add = page.getByRole("form", { name: "Add pair" });
      expect(await add.getByRole("button", { name: "Add pair" }).isDisabled()).toBe(true);
      expect(await add.textContent()).toContain("Still generating");
      expect(await page.getByText(/^generating \(\d\/2 chunks/).count()).toBe(1);

      // Once the held answer comes, the page shows both pairs and unlocks, with no reload.
      await shown.getByText("Pairs 1–2 of 2").waitFor({ timeout: HOLD_MS + 15_000 });
      await lock.waitFor({ state: "detached" });
      await page.getByText(/^ready \(2\/2 chunks, 2 pairs\)/).waitFor();
      for (const action of ["Edit pair", "Delete pair"]) {
        expect(await card.first().getByRole("button", { name: action }).isEnabled()).toBe(true);
      }
      expect(await add.getByRole("button", { name: "Add pair" }).isEnabled()).toBe(true);
      expect(await prompt.getByRole("button", { name: "Save system prompt" }).isEnabled()).toBe(true);
      await page.close();
    } finally {
      slowFrom = Number.POSITIVE_INFINITY;
    }
  });

  it("says each refusal beside the form or pair that caused it", async () => {
    const projectId = await newProject("Refusals");
    const datasetId = await importDataset(projectId, "answers", numbered(3));
    const page = await context.newPage();

    // A name already taken: said in the New dataset form, far down the project's page.
    await page.goto(`${server.url}/#project/${projectId}`);
    const generate = page.getByRole("form", { name: "New dataset" });
    await generate.getByLabel("Name").fill("answers");
    await generate.getByRole("button", { name: "Generate dataset" }).click();
    await generate
      .getByRole("alert")
      .getByText('Dataset "answers" already exists and is complete.')
      .waitFor();
    expect(await page.getByRole("alert").count()).toBe(1);

    // An edited pair with an empty answer: said in its card, whose form keeps what was typed.
    await openDataset(page, datasetId, "answers");
    const card = pairCard(page, "Which port does service 2 listen on?");
    await card.getByRole("button", { name: "Edit pair" }).click();
    const editor = card.getByRole("form", { name: "Edit pair" });
    await editor.getByLabel("user").fill("Which port does service two listen on?");
    await editor.getByLabel("assistant").fill("");
    await editor.getByRole("button", { name: "Save" }).click();
    await editor
      .getByRole("alert")
      .getByText(/must not be empty/)
      .waitFor();
    expect(await editor.getByLabel("user").inputValue()).toBe("Which port does service two listen on?");

    // A blank question: said in the Add pair form.
    const add = page.getByRole("form", { name: "Add pair" });
    await add.getByLabel("Question").fill("   ");
    await add.getByLabel("Answer").fill("Port 9000.");
    await add.getByRole("button", { name: "Add pair" }).click();
    await add
      .getByRole("alert")
      .getByText(/must not be empty/)
      .waitFor();
    expect(await page.getByRole("alert").count()).toBe(2);
    expect(await pairsOf(datasetId)).toHaveLength(3);
    await page.close();
  });

  it("refuses to save over a pair changed in another tab since its editing began, keeping what was typed", async () => {
    const projectId = await newProject("Two tabs");
    const datasetId = await importDataset(projectId, "tabs", numbered(2));
    const page = await context.newPage();
    await openDataset(page, datasetId, "tabs");
    const card = pairCard(page, "Which port does service 1 listen on?");
    await card.getByRole("button", { name: /^Edit pair/ }).click();
    const editor = card.getByRole("form", { name: /^Edit pair/ });
    await editor.getByLabel("assistant").fill("Port 8001, over TLS.");

    // Meanwhile, the other tab saves the same pair.
    const [pair] = await pairsOf(datasetId);
    const other = await context.request.patch(`${server.url}/api/pairs/${pair?.id}`, {
      data: { messages: [pair?.messages[0], { role: "assistant", content: "Port 8001 only." }] },
    });
    expect(other.status()).toBe(200);

    await editor.getByRole("button", { name: "Save" }).click();
    await editor
      .getByRole("alert")
      .getByText(
        /changed elsewhere after you opened it, and nothing was saved\. It now reads .*“Port 8001 only\.”/,
      )
      .waitFor();
    expect(await editor.getByLabel("assistant").inputValue()).toBe("Port 8001, over TLS.");
    expect((await pairsOf(datasetId))[0]?.messages[1]?.content).toBe("Port 8001 only.");
    // Told what it now holds, the user saves again: a deliberate overwrite.
    await editor.getByRole("button", { name: "Save" }).click();
    await editor.waitFor({ state: "detached" });
    expect((await pairsOf(datasetId))[0]?.messages[1]?.content).toBe("Port 8001, over TLS.");
    await page.close();
  });

  it("asks before deleting a pair, and keeps the focus in place after Delete, Save, Cancel and Escape", async () => {
    const projectId = await newProject("Focus");
    const datasetId = await importDataset(projectId, "ports", numbered(3));
    const [first, second] = await pairsOf(datasetId);
    const page = await context.newPage();

    // The project's page names each dataset's actions after it.
    await page.goto(`${server.url}/#project/${projectId}`);
    const item = page.getByRole("listitem", { name: "Dataset ports" });
    await item.getByRole("button", { name: "Validate ports", exact: true }).waitFor();
    await item.getByRole("link", { name: "Download JSONL of ports", exact: true }).waitFor();

    await openDataset(page, datasetId, "ports");
    const card = pairCard(page, "Which port does service 1 listen on?");
    const edit = card.getByRole("button", { name: `Edit pair ${short(first)}`, exact: true });

    // Escape closes the editor unsaved; so does Cancel; the focus goes back to Edit.
    await edit.click();
    const editor = card.getByRole("form", { name: `Edit pair ${short(first)}`, exact: true });
    await editor.getByLabel("assistant").fill("Not saved.");
    await page.keyboard.press("Escape");
    await editor.waitFor({ state: "detached" });
    expect(await focused(page)).toBe(`Edit pair ${short(first)}`);
    await edit.click();
    await editor.getByRole("button", { name: "Cancel" }).click();
    expect(await focused(page)).toBe(`Edit pair ${short(first)}`);
    expect(await card.textContent()).not.toContain("Not saved.");

    await edit.click();
    await editor.getByLabel("assistant").fill("Service 1 listens on port 8001, on every interface.");
    await editor.getByRole("button", { name: "Save" }).click();
    await card.getByRole("definition").filter({ hasText: "on every interface" }).waitFor();
    expect(await focused(page)).toBe(`Edit pair ${short(first)}`);

    // One click only asks, and Cancel (focused) or Escape keeps the pair.
    const remove = card.getByRole("button", { name: `Delete pair ${short(first)}`, exact: true });
    await remove.click();
    expect(await card.textContent()).toContain(`Delete pair ${short(first)}?`);
    expect(await focused(page)).toBe("Cancel");
    await page.keyboard.press("Escape");
    expect(await focused(page)).toBe(`Delete pair ${short(first)}`);
    expect(await pairsOf(datasetId)).toHaveLength(3);

    // Confirmed, it goes, and the focus goes to the pair that took its place.
    await remove.click();
    await card.getByRole("button", { name: "Delete", exact: true }).click();
    await card.waitFor({ state: "detached" });
    await page.getByRole("status", { name: "Pairs shown" }).getByText("Pairs 1–2 of 2").waitFor();
    expect(await focused(page)).toBe(`Pair: ${second?.messages[0]?.content}`);
    expect((await pairsOf(datasetId)).map((p) => p.id)).not.toContain(first?.id);
    await page.close();
  });

  it("goes back to the last page with pairs once the last page's are deleted", async () => {
    const projectId = await newProject("Paging");
    const datasetId = await importDataset(projectId, "many", numbered(21));
    const page = await context.newPage();
    await openDataset(page, datasetId, "many");
    const shown = page.getByRole("status", { name: "Pairs shown" });
    await shown.getByText("Pairs 1–20 of 21").waitFor();
    await page.getByRole("button", { name: "Next" }).click();
    await shown.getByText("Pairs 21–21 of 21").waitFor();

    const last = pairCard(page, "Which port does service 21 listen on?");
    await last.getByRole("button", { name: "Delete pair" }).click();
    await last.getByRole("button", { name: "Delete", exact: true }).click();
    await shown.getByText("Pairs 1–20 of 20").waitFor();
    expect(await page.getByRole("listitem", { name: /^Pair: / }).count()).toBe(20);
    // The pair before the one deleted, now the last shown.
    expect(await focused(page)).toBe("Pair: Which port does service 20 listen on?");
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    await page.close();
  });

  it("shows each pair's short id, as validation names pairs, and finds a pair by it", async () => {
    const projectId = await newProject("Ids");
    const datasetId = await importDataset(projectId, "named", numbered(3));
    const [, second] = await pairsOf(datasetId);
    const page = await context.newPage();
    await openDataset(page, datasetId, "named");
    const card = pairCard(page, "Which port does service 2 listen on?");
    expect(await card.getByText(/^id [0-9a-f]{8}… · /).textContent()).toContain(`id ${short(second)}`);

    const filters = page.getByRole("form", { name: "Filter pairs" });
    await filters.getByLabel("Search").fill(short(second));
    await filters.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("status", { name: "Pairs shown" }).getByText("Pairs 1–1 of 1").waitFor();
    expect(await page.getByRole("listitem", { name: /^Pair: / }).getAttribute("aria-label")).toBe(
      "Pair: Which port does service 2 listen on?",
    );
    await page.close();
  });

  it("applies a filter's choice at once, as the chunk list does, with no Apply to press", async () => {
    const projectId = await newProject("Filters");
    const pairs = numbered(3);
    // The repeat is a pair with an error once validated.
    const datasetId = await importDataset(projectId, "repeats", [...pairs, pairs[0] as [string, string]]);
    expect(
      (await context.request.post(`${server.url}/api/datasets/${datasetId}/validate`, { data: {} })).ok(),
    ).toBe(true);
    const page = await context.newPage();
    await openDataset(page, datasetId, "repeats");
    const shown = page.getByRole("status", { name: "Pairs shown" });
    await shown.getByText("Pairs 1–4 of 4").waitFor();
    await page.getByRole("form", { name: "Filter pairs" }).getByLabel("Validity").selectOption("false");
    await shown.getByText("Pairs 1–1 of 1").waitFor();
    await page.close();
  });

  it("fits a 360 px screen, a long word in a pair wrapping rather than running off it", async () => {
    const projectId = await newProject("Narrow");
    const word = "Supercalifragilisticexpialidocious_".repeat(6); // no space, no hyphen: no place to break
    const datasetId = await importDataset(projectId, "words", [[`What is ${word}?`, `It is ${word}.`]]);
    const page = await context.newPage();
    await page.setViewportSize({ width: 360, height: 800 });
    await openDataset(page, datasetId, "words");
    const card = pairCard(page, `What is ${word}?`);
    const fits = async () => {
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      const box = await card.boundingBox();
      expect((box?.x ?? 0) + (box?.width ?? Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(360);
    };
    await fits();
    await card.getByRole("button", { name: "Edit pair" }).click();
    await card.getByRole("form", { name: "Edit pair" }).waitFor();
    await fits();
    await page.close();
  });

  it("says the system prompt goes to pairs without one of their own, and says when it is saved", async () => {
    const projectId = await newProject("Prompt");
    const datasetId = await importDataset(projectId, "prompted", numbered(1));
    const page = await context.newPage();
    await openDataset(page, datasetId, "prompted");
    const form = page.getByRole("form", { name: "System prompt" });
    // Empty, so that its name is the label's text alone (the text in it would follow).
    await form
      .getByLabel("System prompt, applied at export to every pair without a system message of its own", {
        exact: true,
      })
      .fill("Answer from the runbook only.");
    await form.getByRole("button", { name: "Save system prompt" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const stored = await context.request.get(`${server.url}/api/datasets/${datasetId}`);
    expect(((await stored.json()) as { systemPrompt: string }).systemPrompt).toBe(
      "Answer from the runbook only.",
    );
    expect(await form.getByRole("textbox").inputValue()).toBe("Answer from the runbook only.");
    await form.getByRole("textbox").pressSequentially(" Be brief.");
    expect(await form.getByRole("status").count()).toBe(0);
    await page.close();
  });
});
