import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countChatTokens } from "../src/core/tokens.js";
import { ingestFiles, settledDataset } from "./helpers/ingest.js";
import { type ApiCall, createTestApp, type TestApp } from "./helpers/test-app.js";

let t: TestApp;
let owner: { token: string; call: ApiCall; userId: string };
let datasetId: string;
let projectId: string;

const qa = (question: string, answer: string) => ({
  messages: [
    { role: "user", content: question },
    { role: "assistant", content: answer },
  ],
});

beforeAll(async () => {
  t = await createTestApp({ workers: true });
  owner = await t.signUp("review@example.com");
  projectId = (await owner.call("POST", "/api/projects", { name: "Review" })).body.id;
  await ingestFiles(t, owner.token, projectId, {
    "a.md": "# Backups\n\nA snapshot is a full copy of the database. Snapshots are kept for thirty days.\n",
    "b.md": "# Restore\n\nRestoring replaces the current database with a snapshot. It takes ten minutes.\n",
  });
  const started = await owner.call("POST", `/api/projects/${projectId}/datasets`, {
    datasetName: "r1",
    mode: "qa",
  });
  datasetId = (await settledDataset(owner.call, started.body.id)).id;
});
afterAll(() => t.close());

describe("reviewing and editing pairs", () => {
  it("edits a pair's messages, recomputing tokens and quality and keeping provenance", async () => {
    const { body } = await owner.call("GET", `/api/datasets/${datasetId}/pairs`);
    const pair = body.pairs[0];
    const messages = qa("How long are snapshots kept?", "Snapshots are kept for thirty days, then deleted.");
    const edited = await owner.call("PATCH", `/api/pairs/${pair.id}`, messages);
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      messages: messages.messages,
      tokenCount: countChatTokens(messages.messages as never),
      sourceChunkId: pair.sourceChunkId,
      generator: pair.generator,
      model: pair.model,
      promptVersion: pair.promptVersion,
    });
    expect(edited.body.qualityScore).not.toBe(pair.qualityScore);
    expect((await owner.call("GET", `/api/pairs/${pair.id}`)).body.messages).toEqual(messages.messages);
  });

  it("refuses an edit of a pair changed since the editor loaded it, and keeps the other change", async () => {
    const { body } = await owner.call("GET", `/api/datasets/${datasetId}/pairs`);
    const pair = body.pairs[1];
    const loaded = pair.updatedAt;
    // A generated pair's time, from PostgreSQL's clock, holds microseconds: the API's holds milliseconds.
    const first = await owner.call("PATCH", `/api/pairs/${pair.id}`, {
      ...qa("Who keeps snapshots?", "The backup service."),
      expectedUpdatedAt: loaded,
    });
    expect(first.status).toBe(200);
    expect(first.body.updatedAt).not.toBe(loaded);
    // Another tab, still showing the pair as loaded.
    const stale = await owner.call("PATCH", `/api/pairs/${pair.id}`, {
      ...qa("Who keeps backups?", "Nobody."),
      expectedUpdatedAt: loaded,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toContain("changed elsewhere after you opened it; nothing was saved");
    expect((await owner.call("GET", `/api/pairs/${pair.id}`)).body.messages[0].content).toBe(
      "Who keeps snapshots?",
    );
    const bad = await owner.call("PATCH", `/api/pairs/${pair.id}`, {
      ...qa("Q?", "A."),
      expectedUpdatedAt: "soon",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].field).toBe("expectedUpdatedAt");
  });

  it("edits the turns of a conversation and a pair's own system message", async () => {
    const added = await owner.call("POST", `/api/datasets/${datasetId}/pairs`, {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "What is a snapshot?" },
        { role: "assistant", content: "A full copy of the database." },
        { role: "user", content: "How long is it kept?" },
        { role: "assistant", content: "Thirty days." },
      ],
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ mode: "conversation", generator: "manual", status: "accepted" });
    expect(added.body.qualityBreakdown.grounding).toBe(1);
  });

  it("refuses messages that could not be exported, naming the field, and keeps the pair as it was", async () => {
    const { body } = await owner.call("GET", `/api/datasets/${datasetId}/pairs`);
    const pair = body.pairs[0];
    const cases: [unknown, string][] = [
      [{ messages: [{ role: "user", content: "Q?" }] }, "messages"],
      [
        {
          messages: [
            { role: "assistant", content: "A." },
            { role: "user", content: "Q?" },
          ],
        },
        "messages[0].role",
      ],
      [qa("Q?", "   "), "messages[1].content"],
      [{ messages: "nope" }, "messages"],
    ];
    for (const [input, field] of cases) {
      const answer = await owner.call("PATCH", `/api/pairs/${pair.id}`, input);
      expect(answer.status, JSON.stringify(input)).toBe(400);
      expect(answer.body.error.details.issues[0].field).toBe(field);
    }
    expect((await owner.call("GET", `/api/pairs/${pair.id}`)).body.messages).toEqual(pair.messages);
  });

  it("filters, searches and sorts pairs", async () => {
    const all = (await owner.call("GET", `/api/datasets/${datasetId}/pairs?limit=500`)).body;
    const byQuality = (
      await owner.call("GET", `/api/datasets/${datasetId}/pairs?sort=quality&order=desc&limit=500`)
    ).body;
    const scores = byQuality.pairs.map((p: { qualityScore: number }) => p.qualityScore);
    expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
    const found = (await owner.call("GET", `/api/datasets/${datasetId}/pairs?search=THIRTY%20days`)).body;
    expect(found.total).toBeGreaterThan(0);
    expect(found.total).toBeLessThan(all.total);
    for (const p of found.pairs) expect(JSON.stringify(p.messages).toLowerCase()).toContain("thirty days");
    const literal = (await owner.call("GET", `/api/datasets/${datasetId}/pairs?search=%25`)).body;
    expect(literal.total).toBe(0);
  });

  it("searches the messages' text, not the JSON around it, and finds a pair by its short id", async () => {
    const quoted = qa('What does "C:\\backups" hold?', "The nightly snapshots, one file per day.");
    const added = (await owner.call("POST", `/api/datasets/${datasetId}/pairs`, quoted)).body;
    const search = async (text: string) =>
      (await owner.call("GET", `/api/datasets/${datasetId}/pairs?search=${encodeURIComponent(text)}`)).body;
    // Words of the JSON every pair is stored as: no pair says them.
    for (const text of ["role", "content", "assistant", '", "', "}"])
      expect((await search(text)).total, text).toBe(0);
    // A quote and a backslash as written, which the JSON escapes.
    for (const text of ['"C:\\backups"', "C:\\b"]) {
      expect(
        (await search(text)).pairs.map((p: { id: string }) => p.id),
        text,
      ).toEqual([added.id]);
    }
    expect((await search(`${added.id.slice(0, 8)}…`)).pairs.map((p: { id: string }) => p.id)).toEqual([
      added.id,
    ]);
    await owner.call("DELETE", `/api/pairs/${added.id}`);
  });

  it("restores a rejected pair and deletes several at once", async () => {
    await t.database.executeSql(
      "UPDATE training_pairs SET status = 'rejected', rejection_reason = 'refusal' WHERE id = (SELECT id FROM training_pairs WHERE dataset_id = $1 ORDER BY seq LIMIT 1)",
      [datasetId],
    );
    const rejected = (await owner.call("GET", `/api/datasets/${datasetId}/pairs?status=rejected`)).body.pairs;
    expect(rejected).toHaveLength(1);
    const restored = await owner.call("POST", `/api/pairs/${rejected[0].id}/restore`);
    expect(restored.body).toMatchObject({ status: "accepted", rejectionReason: null });
    expect((await owner.call("POST", `/api/pairs/${rejected[0].id}/restore`)).status).toBe(409);

    const before = (await owner.call("GET", `/api/datasets/${datasetId}/pairs?limit=500`)).body;
    const ids = before.pairs.slice(0, 2).map((p: { id: string }) => p.id);
    expect((await owner.call("POST", `/api/datasets/${datasetId}/pairs/delete`, { ids })).body).toEqual({
      deleted: 2,
    });
    expect((await owner.call("GET", `/api/datasets/${datasetId}/pairs?limit=500`)).body.total).toBe(
      before.total - 2,
    );
  });

  it("sets the dataset-wide system prompt", async () => {
    const set = await owner.call("PATCH", `/api/datasets/${datasetId}`, {
      systemPrompt: "You answer about backups.",
    });
    expect(set.body.systemPrompt).toBe("You answer about backups.");
    const cleared = await owner.call("PATCH", `/api/datasets/${datasetId}`, { systemPrompt: null });
    expect(cleared.body.systemPrompt).toBeNull();
  });

  it("refuses every edit while a training job uses the dataset, and allows them after", async () => {
    const { body } = await owner.call("GET", `/api/datasets/${datasetId}/pairs`);
    const pair = body.pairs[0];
    await t.database.executeSql("UPDATE training_datasets SET status = 'training' WHERE id = $1", [
      datasetId,
    ]);
    for (const [method, path, input] of [
      ["PATCH", `/api/pairs/${pair.id}`, qa("Q?", "A.")],
      ["POST", `/api/datasets/${datasetId}/pairs`, qa("Q?", "A.")],
      ["POST", `/api/datasets/${datasetId}/pairs/delete`, { ids: [pair.id] }],
      ["DELETE", `/api/pairs/${pair.id}`, undefined],
      ["PATCH", `/api/datasets/${datasetId}`, { systemPrompt: "x" }],
    ] as const) {
      const answer = await owner.call(method, path, input);
      expect(answer.status, `${method} ${path}`).toBe(409);
      expect(answer.body.error.message).toMatch(/training job/);
    }
    expect((await owner.call("GET", `/api/pairs/${pair.id}`)).body).toEqual(pair);
    await t.database.executeSql("UPDATE training_datasets SET status = 'ready' WHERE id = $1", [datasetId]);
    expect((await owner.call("PATCH", `/api/pairs/${pair.id}`, qa("Q?", "A."))).status).toBe(200);
  });

  it("keeps pairs private", async () => {
    const stranger = await t.signUp("review-stranger@example.com");
    const { body } = await owner.call("GET", `/api/datasets/${datasetId}/pairs`);
    const id = body.pairs[0].id;
    expect((await stranger.call("GET", `/api/pairs/${id}`)).status).toBe(404);
    expect((await stranger.call("PATCH", `/api/pairs/${id}`, qa("Q?", "A."))).status).toBe(404);
    expect((await stranger.call("DELETE", `/api/pairs/${id}`)).status).toBe(404);
    expect(
      (await stranger.call("POST", `/api/datasets/${datasetId}/pairs/delete`, { ids: [id] })).status,
    ).toBe(404);
    expect((await owner.call("GET", `/api/pairs/${id}`)).status).toBe(200);
  });

  it("takes a pair by the short id validation names it by, and refuses one that begins several", async () => {
    const twice = qa("Where are snapshots kept?", "In the project's storage bucket.");
    for (let i = 0; i < 2; i++) await owner.call("POST", `/api/datasets/${datasetId}/pairs`, twice);
    const { body: result } = await owner.call("POST", `/api/datasets/${datasetId}/validate`, {});
    const repeated = result.issues.find((issue: { code: string }) => issue.code === "exact_duplicate");
    const [, shown] = /\(id ([0-9a-f]{8}…)\)/.exec(repeated.message) ?? [];
    expect(shown).toBe(`${repeated.pairIds[0].slice(0, 8)}…`);

    // As printed, "…" and all, and without it.
    for (const id of [shown, shown?.slice(0, -1)]) {
      const found = await owner.call("GET", `/api/pairs/${encodeURIComponent(id as string)}`);
      expect(found.status).toBe(200);
      expect(found.body.id).toBe(repeated.pairIds[0]);
    }
    const edited = await owner.call("PATCH", `/api/pairs/${shown?.slice(0, -1)}`, qa("Q?", "A."));
    expect(edited.body).toMatchObject({ id: repeated.pairIds[0], messages: qa("Q?", "A.").messages });
    const stranger = await t.signUp("short-id-stranger@example.com");
    expect((await stranger.call("GET", `/api/pairs/${shown?.slice(0, -1)}`)).status).toBe(404);

    // Two pairs whose ids begin alike: the short id names neither, a longer one each.
    const { body: page } = await owner.call(
      "GET",
      `/api/datasets/${datasetId}/pairs?search=Where%20are%20snapshots`,
    );
    const alike = ["abcdef12-0000-4000-8000-000000000001", "abcdef12-0000-4000-8000-000000000002"];
    const ids = [repeated.pairIds[0], page.pairs[0].id];
    for (const [i, id] of ids.entries()) {
      await t.database.executeSql("UPDATE training_pairs SET id = $1 WHERE id = $2", [alike[i], id]);
    }
    const ambiguous = await owner.call("GET", "/api/pairs/abcdef12");
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.error.details.issues[0]).toMatchObject({
      field: "id",
      message: '"abcdef12" begins the ids of several of your pairs: give more of its digits',
    });
    expect((await owner.call("GET", "/api/pairs/abcdef12-0000-4000-8000-000000000002")).body.id).toBe(
      alike[1],
    );
    expect((await owner.call("GET", "/api/pairs/abcdef12-0000-4000-8000-00000000000")).status).toBe(400);

    // In a dataset, a short id names the one pair of it that it begins, whatever other datasets hold.
    const other = await owner.call("POST", `/api/projects/${projectId}/datasets`, {
      datasetName: "r2",
      mode: "qa",
    });
    const otherId = (await settledDataset(owner.call, other.body.id)).id;
    await t.database.executeSql("UPDATE training_pairs SET dataset_id = $1 WHERE id = $2", [
      otherId,
      alike[1],
    ]);
    const deleted = await owner.call("POST", `/api/datasets/${datasetId}/pairs/delete`, {
      ids: ["abcdef12", "0000000f"],
    });
    expect(deleted.body).toEqual({ deleted: 1 });
    expect((await owner.call("GET", "/api/pairs/abcdef12")).body.id).toBe(alike[1]);
    const rest = await owner.call("POST", `/api/datasets/${otherId}/pairs/delete`, {
      ids: ["abcdef12-0000-4000-8000-000000000002…"],
    });
    expect(rest.body).toEqual({ deleted: 1 });
    expect((await owner.call("GET", "/api/pairs/abcdef12")).status).toBe(404);
  });
});
