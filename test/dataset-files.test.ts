import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countChatTokens } from "../src/core/tokens.js";
import { ingestFiles, settledDataset } from "./helpers/ingest.js";
import { type ApiCall, createTestApp, type TestApp } from "./helpers/test-app.js";

let t: TestApp;
let owner: { token: string; call: ApiCall; userId: string };
let projectId: string;
let dataset: { id: string; progress: { pairs: number } };

const topic = (i: number) =>
  `# Topic ${i}\n\n## Setup\n\nTopic ${i} is a feature that stores reports — “naïve” café ☕ 数据 included. It is enabled per team.\n\n` +
  `1. Open settings.\n2. Enable topic ${i}.\n3. Save the change.\n\n## Limits\n\nTopic ${i} keeps reports for ${i * 30} days.\n`;

async function download(path: string) {
  const response = await t.app.request(path, { headers: { authorization: `Bearer ${owner.token}` } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

beforeAll(async () => {
  t = await createTestApp({ workers: true });
  owner = await t.signUp("files@example.com");
  projectId = (await owner.call("POST", "/api/projects", { name: "Files" })).body.id;
  await ingestFiles(
    t,
    owner.token,
    projectId,
    Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`t${i}.md`, topic(i)])),
  );
  const started = await owner.call("POST", `/api/projects/${projectId}/datasets`, {
    datasetName: "Support Docs",
    mode: "qa",
    systemPrompt: "You answer questions about topics.",
  });
  dataset = await settledDataset(owner.call, started.body.id);
});
afterAll(() => t.close());

describe("validation", () => {
  it("returns the seed's ValidationResult for the target model", async () => {
    const { status, body } = await owner.call("POST", `/api/datasets/${dataset.id}/validate`, {
      model: "gpt-4o-mini-2024-07-18",
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      valid: true,
      errors: [],
      stats: {
        totalPairs: dataset.progress.pairs,
        avgTokensPerPair: expect.any(Number),
        avgQualityScore: expect.any(Number),
        uniqueQuestions: expect.any(Number),
        model: "gpt-4o-mini-2024-07-18",
        encoding: "o200k_base",
      },
    });
    expect(body.warnings.join(" ")).toMatch(/at least 50/);
  });

  it("names the pairs over the limit, marks them invalid, and export leaves them out unless asked", async () => {
    // A limit between the shortest and the longest example, so that some pairs are over it.
    const counts = (await download(`/api/datasets/${dataset.id}/export?format=openai`)).text
      .split("\n")
      .filter(Boolean)
      .map((line) => countChatTokens(JSON.parse(line).messages))
      .sort((a, b) => a - b);
    const limit = counts[0] ?? 0;
    expect(counts.at(-1)).toBeGreaterThan(limit);
    const { body } = await owner.call("POST", `/api/datasets/${dataset.id}/validate`, {
      model: "my-model",
      hardTokenLimit: limit,
    });
    expect(body.valid).toBe(false);
    const over = body.issues.find((i: { code: string }) => i.code === "over_token_limit");
    expect(over.pairIds.length).toBeGreaterThan(0);
    expect(body.errors.join(" ")).toContain(over.lines[0].toString());
    const invalid = await owner.call("GET", `/api/datasets/${dataset.id}/pairs?limit=500`);
    expect(
      invalid.body.pairs
        .filter((p: { isValid: boolean }) => !p.isValid)
        .map((p: { id: string }) => p.id)
        .sort(),
    ).toEqual([...over.pairIds].sort());

    const onlyValid = await download(
      `/api/datasets/${dataset.id}/export?format=openai&model=my-model&hardTokenLimit=${limit}`,
    );
    const all = await download(
      `/api/datasets/${dataset.id}/export?format=openai&model=my-model&hardTokenLimit=${limit}&onlyValid=false`,
    );
    const lines = (text: string) => text.split("\n").filter(Boolean);
    expect(lines(all.text)).toHaveLength(dataset.progress.pairs);
    expect(lines(onlyValid.text)).toHaveLength(dataset.progress.pairs - over.pairIds.length);
    for (const line of lines(onlyValid.text))
      expect(countChatTokens(JSON.parse(line).messages)).toBeLessThanOrEqual(limit);
  });

  it("counts tokens exactly as the exported file holds them", async () => {
    const { body } = await owner.call("POST", `/api/datasets/${dataset.id}/validate`, {});
    const file = await download(`/api/datasets/${dataset.id}/export?format=openai`);
    const counts = file.text
      .split("\n")
      .filter(Boolean)
      .map((line) => countChatTokens(JSON.parse(line).messages));
    expect(body.stats.tokens.max).toBe(Math.max(...counts));
    expect(body.stats.tokens.min).toBe(Math.min(...counts));
    expect(body.stats.billableTokens).toBe(counts.reduce((a, b) => a + b, 0));
  });
});

describe("export", () => {
  it("streams every format with the system prompt, one example a line, Unicode intact", async () => {
    const expectations: Record<string, (record: Record<string, unknown>) => void> = {
      openai: (r) =>
        expect((r.messages as { role: string }[]).map((m) => m.role)).toEqual([
          "system",
          "user",
          "assistant",
        ]),
      anthropic: (r) =>
        expect(r.prompt).toMatch(/^You answer questions about topics\.\n\nHuman: .*\n\nAssistant:$/s),
      "anthropic-bedrock": (r) => expect(r).toMatchObject({ system: "You answer questions about topics." }),
      alpaca: (r) => expect(r).toMatchObject({ input: "", system: "You answer questions about topics." }),
      sharegpt: (r) =>
        expect((r.conversations as { from: string }[]).map((m) => m.from)).toEqual([
          "system",
          "human",
          "gpt",
        ]),
    };
    for (const [format, check] of Object.entries(expectations)) {
      const file = await download(`/api/datasets/${dataset.id}/export?format=${format}`);
      expect(file.status, format).toBe(200);
      expect(file.headers.get("content-disposition")).toBe(
        `attachment; filename="support-docs.${format}.jsonl"`,
      );
      const lines = file.text.split("\n");
      expect(lines.pop()).toBe("");
      expect(lines).toHaveLength(dataset.progress.pairs);
      for (const line of lines) check(JSON.parse(line));
      expect(file.text).toContain("“naïve” café ☕ 数据");
    }
    const bare = await download(`/api/datasets/${dataset.id}/export?format=openai&includeSystemPrompt=false`);
    expect(bare.text).not.toContain("You answer questions about topics.");
  });

  it("splits train and validation by seed, the same way every time, losing no pair", async () => {
    const part = (p: string, seed = 42) =>
      download(`/api/datasets/${dataset.id}/export?format=openai&split=0.3&seed=${seed}&part=${p}`).then(
        (f) => f.text.split("\n").filter(Boolean),
      );
    const [train, validation] = [await part("train"), await part("validation")];
    expect(train.length + validation.length).toBe(dataset.progress.pairs);
    expect(validation.length).toBeGreaterThan(0);
    expect(new Set([...train, ...validation]).size).toBe(dataset.progress.pairs);
    expect(await part("validation")).toEqual(validation);
    // However small the fraction, neither file is empty: a provider refuses an empty validation file.
    const tiny = await download(
      `/api/datasets/${dataset.id}/export?format=openai&split=0.001&seed=1&part=validation`,
    );
    expect(tiny.text.split("\n").filter(Boolean)).toHaveLength(1);
    const file = await download(
      `/api/datasets/${dataset.id}/export?format=openai&split=0.3&seed=42&part=train`,
    );
    expect(file.headers.get("content-disposition")).toContain("support-docs.openai.train.jsonl");
  });

  it("refuses bad export options naming them, and others' datasets", async () => {
    for (const [query, field] of [
      ["format=csv", "format"],
      ["format=openai&split=1.5&part=train", "split"],
      ["format=openai&split=0.1", "part"],
    ]) {
      const file = await download(`/api/datasets/${dataset.id}/export?${query}`);
      expect(file.status, query).toBe(400);
      expect(JSON.parse(file.text).error.details.issues[0].field).toBe(field);
    }
    const stranger = await t.signUp("files-stranger@example.com");
    expect((await stranger.call("POST", `/api/datasets/${dataset.id}/validate`, {})).status).toBe(404);
    const theirs = await t.app.request(`/api/datasets/${dataset.id}/export?format=openai`, {
      headers: { authorization: `Bearer ${stranger.token}` },
    });
    expect(theirs.status).toBe(404);
  });
});

describe("import", () => {
  async function importFile(datasetName: string, text: string, format = "auto", fileName = "upload.jsonl") {
    const form = new FormData();
    form.append("file", new Blob([text]), fileName);
    form.append("datasetName", datasetName);
    form.append("format", format);
    const response = await t.app.request(`/api/projects/${projectId}/datasets/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${owner.token}` },
      body: form,
    });
    return { status: response.status, body: await response.json() };
  }

  it("reads every format back, so export → import → export is byte-identical", async () => {
    for (const format of ["openai", "anthropic", "anthropic-bedrock", "alpaca", "sharegpt"]) {
      const exported = (await download(`/api/datasets/${dataset.id}/export?format=${format}`)).text;
      const imported = await importFile(
        `imported-${format}`,
        exported,
        format === "openai" ? "auto" : format,
      );
      expect(imported.status, format).toBe(201);
      expect(imported.body).toMatchObject({
        status: "ready",
        format,
        generationOptions: { generator: "import" },
      });
      const again = (await download(`/api/datasets/${imported.body.id}/export?format=${format}`)).text;
      expect(again, format).toBe(exported);
    }
    // Imported pairs carry no quality score: their average is none, not 0.
    const imported = (await owner.call("GET", "/api/datasets?name=imported-openai")).body.datasets[0];
    const { body } = await owner.call("POST", `/api/datasets/${imported.id}/validate`, {});
    expect(body.stats.totalPairs).toBeGreaterThan(0);
    expect(body.stats.avgQualityScore).toBeNull();
  });

  it("refuses a file with a bad line, naming it, and stores nothing", async () => {
    const before = (await owner.call("GET", `/api/projects/${projectId}/datasets`)).body.datasets.length;
    const good = '{"messages":[{"role":"user","content":"Hi?"},{"role":"assistant","content":"Hello."}]}';
    const bad = '{"messages":[{"role":"user","content":"Hi?"},{"role":"user","content":"Again?"}]}';
    const answer = await importFile("broken", `${good}\n${good}\n${bad}\n{not json\n`);
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.issues.map((i: { field: string }) => i.field)).toEqual([
      "line 3",
      "line 4",
    ]);
    expect(answer.body.error.message).toContain("line 3");
    expect((await owner.call("GET", `/api/projects/${projectId}/datasets`)).body.datasets.length).toBe(
      before,
    );

    // The database's text cannot hold a NUL: it was an internal error.
    const nul =
      '{"messages":[{"role":"user","content":"Hi?"},{"role":"assistant","content":"Hel\\u0000lo."}]}';
    expect((await importFile("nul", `${good}\n${nul}\n`)).body.error.details.issues).toEqual([
      { field: "line 2", message: "line 2: a message holds a NUL character (U+0000)" },
    ]);

    expect((await importFile("empty", "\n\n")).body.error.details.issues[0].field).toBe("file");
    expect((await importFile("nul-name", good, "auto", "a\u0000b.jsonl")).body.error.details.issues).toEqual([
      { field: "file", message: "its name must not contain a NUL character (U+0000)" },
    ]);
    expect((await importFile("Support Docs", good)).status).toBe(409);
  });
});
