import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ChatRequest,
  type FakeAnswer,
  type FakeChatServer,
  startFakeChatServer,
} from "./fakes/chat-completions-server.js";
import { ingestFiles, settledDataset } from "./helpers/ingest.js";
import { tablesContaining } from "./helpers/scan-database.js";
import { type ApiCall, createTestApp, type TestApp } from "./helpers/test-app.js";

const USER_KEY = "sk-user-OwnGenerationEndpointKey000000000000000001";
const SERVER_KEY = "sk-server-OperatorEndpointKey0000000000000000002";
const USER_MODEL = "user-model-8b";
const SERVER_MODEL = "gpt-4o-mini";

/** Answers with the chunk's own first line, so the safety filter accepts the pair. */
function answer(request: ChatRequest): FakeAnswer {
  const user = request.messages.find((m) => m.role === "user")?.content;
  const text = typeof user === "string" ? user : "";
  const document = text.slice(text.indexOf("<document>") + 10, text.indexOf("</document>"));
  const sentence =
    document.split("\n").find((l) => l && !l.startsWith("#") && !l.startsWith("Section:")) ?? "";
  return {
    content: JSON.stringify({
      mode: "qa",
      pairs: [
        {
          messages: [
            { role: "user", content: "What does the policy say?" },
            { role: "assistant", content: sentence },
          ],
        },
      ],
    }),
  };
}

let userFake: FakeChatServer;
let serverFake: FakeChatServer;
let t: TestApp;
const bodies: string[] = [];
let alice: { call: ApiCall; projectId: string };
let bob: { call: ApiCall; projectId: string };

const recording =
  (call: ApiCall): ApiCall =>
  async (method, path, body) => {
    const answer = await call(method, path, body);
    bodies.push(JSON.stringify(answer.body ?? null));
    return answer;
  };

async function signUpWithDocuments(email: string) {
  const { token, call: raw } = await t.signUp(email);
  const call = recording(raw);
  const projectId = (await call("POST", "/api/projects", { name: "Policies" })).body.id as string;
  await ingestFiles(t, token, projectId, {
    "refunds.md": "# Refunds\n\nRefunds are paid back to the original card within five working days.\n",
    "shipping.md": "# Shipping\n\nParcels leave the warehouse on the next working day after payment.\n",
  });
  return { call, projectId };
}

async function generate(user: { call: ApiCall; projectId: string }, name: string) {
  const started = await user.call("POST", `/api/projects/${user.projectId}/datasets`, {
    datasetName: name,
    mode: "qa",
    pairsPerChunk: 1,
  });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return settledDataset(user.call, started.body.id);
}

beforeAll(async () => {
  userFake = await startFakeChatServer({ apiKey: USER_KEY, respond: answer });
  serverFake = await startFakeChatServer({ apiKey: SERVER_KEY, respond: answer });
  t = await createTestApp({
    workers: true,
    settings: { llm: { baseURL: `${serverFake.url}/v1`, model: SERVER_MODEL, apiKey: SERVER_KEY } },
  });
  alice = await signUpWithDocuments("alice@example.com");
  bob = await signUpWithDocuments("bob@example.com");
});
afterAll(async () => {
  await t.close();
  await userFake.close();
  await serverFake.close();
});

describe("a user's own generation endpoint", () => {
  it("is validated, shown without its key, and falls back to the server's when unset", async () => {
    const initial = await alice.call("GET", "/api/llm-endpoint");
    expect(initial).toEqual({
      status: 200,
      body: {
        source: "server",
        baseUrl: `${serverFake.url}/v1`,
        model: SERVER_MODEL,
        keySet: false,
        updatedAt: null,
      },
    });

    const bad: [unknown, string[]][] = [
      [{ baseUrl: "ftp://example.com/v1", model: "m" }, ["baseUrl"]],
      [{ baseUrl: "not a url", model: "" }, ["baseUrl", "model"]],
      [{ baseUrl: `https://me:${USER_KEY}@example.com/v1`, model: "m" }, ["baseUrl"]],
      [{ model: "m" }, ["baseUrl"]],
    ];
    for (const [body, fields] of bad) {
      const answer = await alice.call("PUT", "/api/llm-endpoint", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.details.issues.map((i: { field: string }) => i.field)).toEqual(fields);
    }
    expect((await alice.call("DELETE", "/api/llm-endpoint")).status).toBe(404);

    expect((await alice.call("PUT", "/api/keys/llm", { apiKey: USER_KEY })).status).toBe(200);
    const set = await alice.call("PUT", "/api/llm-endpoint", {
      baseUrl: ` ${userFake.url}/v1 `,
      model: ` ${USER_MODEL} `,
    });
    expect(set).toEqual({
      status: 200,
      body: {
        source: "user",
        baseUrl: `${userFake.url}/v1`,
        model: USER_MODEL,
        keySet: true,
        updatedAt: expect.any(String),
      },
    });
    expect((await bob.call("GET", "/api/llm-endpoint")).body.source).toBe("server");
  });

  it("generates through the user's endpoint with the user's key as Bearer; other users keep the server's", async () => {
    const dataset = await generate(alice, "own-endpoint");
    expect(dataset).toMatchObject({ status: "ready", error: null, generationOptions: { generator: "llm" } });
    expect(dataset.progress).toMatchObject({ done: 2, pairs: 2 });
    // The fake answers 401 to any other Bearer key: every request it served carried the user's key.
    expect(userFake.requests.map((r) => r.model)).toEqual([USER_MODEL, USER_MODEL]);
    expect(userFake.stats.failed).toBe(0);
    const { pairs } = (await alice.call("GET", `/api/datasets/${dataset.id}/pairs`)).body;
    expect(pairs.map((p: { model: string; generator: string }) => [p.generator, p.model])).toEqual([
      ["llm", USER_MODEL],
      ["llm", USER_MODEL],
    ]);

    const other = await generate(bob, "server-endpoint");
    expect(other.progress).toMatchObject({ done: 2, pairs: 2 });
    expect(serverFake.requests.map((r) => r.model)).toEqual([SERVER_MODEL, SERVER_MODEL]);
    expect(userFake.requests).toHaveLength(2);
  });

  it("reads the key when each chunk is sent: a refused key stops the run, a new one resumes it", async () => {
    await alice.call("PUT", "/api/keys/llm", { apiKey: "sk-wrong-key-0000" });
    const stopped = await generate(alice, "key-changes");
    expect(stopped.status).toBe("failed");
    expect(stopped.error).toMatch(/refused the API key.*fineflow keys set llm/);
    expect(userFake.stats.failed).toBeGreaterThan(0);

    await alice.call("PUT", "/api/keys/llm", { apiKey: USER_KEY });
    const resumed = await generate(alice, "key-changes");
    expect(resumed).toMatchObject({ status: "ready", error: null });
    expect(resumed.progress).toMatchObject({ done: 2, pending: 0 });

    // A key sealed under another secret stops the run with the cause, not garbage sent as a key.
    await t.database.executeSql("UPDATE user_api_keys SET key_encrypted = $1 WHERE provider = 'llm'", [
      `v1.AAAAAAAAAAA.${"A".repeat(16)}.${"A".repeat(22)}.AAAA`,
    ]);
    const unreadable = await generate(alice, "unreadable-key");
    expect(unreadable.status).toBe("failed");
    expect(unreadable.error).toMatch(/another secret.*fineflow keys rotate.*resume/);
    await alice.call("PUT", "/api/keys/llm", { apiKey: USER_KEY });
  });

  it("goes back to the server's endpoint once cleared", async () => {
    expect((await alice.call("DELETE", "/api/llm-endpoint")).status).toBe(204);
    expect((await alice.call("GET", "/api/llm-endpoint")).body).toMatchObject({
      source: "server",
      keySet: true,
    });
    const before = serverFake.requests.length;
    const dataset = await generate(alice, "after-clear");
    expect(dataset.progress).toMatchObject({ done: 2 });
    expect(serverFake.requests.length).toBe(before + 2);
  });

  it("never stores or answers with the key: not in datasets, tasks, pairs, jobs or any response", async () => {
    for (const key of [USER_KEY, SERVER_KEY]) {
      expect(await tablesContaining(t.database, key), key).toEqual([]);
      for (const body of bodies) expect(body).not.toContain(key);
    }
    expect(await tablesContaining(t.database, USER_MODEL)).toEqual(
      expect.arrayContaining(["public.training_pairs"]),
    );
  });
});
