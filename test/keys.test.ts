import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { openRuntime } from "../src/context.js";
import { keyIdOf, WrongSecretError } from "../src/core/secret-box.js";
import { ApiKeysRepository } from "../src/db/repositories/api-keys-repository.js";
import { createLogger, silentLogger } from "../src/logger.js";
import { KeyService } from "../src/services/key-service.js";
import { tablesContaining } from "./helpers/scan-database.js";
import { type ApiCall, createTestApp, type TestApp } from "./helpers/test-app.js";
import { TEST_ENCRYPTION_SECRET } from "./helpers/test-secret.js";

const OPENAI_KEY = "sk-proj-AliceOpenAIKey0000000000000000000000000001";
const TOGETHER_KEY = "tgp_v1_AliceTogetherKey000000000000000000000002";
const LLM_KEY = "llm-AliceGenerationEndpointKey00000000000003";
const BOB_KEY = "sk-proj-BobOpenAIKey000000000000000000000000000004";
const PLAINTEXTS = [OPENAI_KEY, TOGETHER_KEY, LLM_KEY, BOB_KEY];
const NEW_SECRET = "the-rotated-encryption-secret-0123456789abcdef";

let t: TestApp;
const logLines: string[] = [];
/** Every API answer the tests receive, to check no key is in any of them. */
const bodies: string[] = [];
let alice: { userId: string; call: ApiCall };
let bob: { userId: string; call: ApiCall };

const recording =
  (call: ApiCall): ApiCall =>
  async (method, path, body) => {
    const answer = await call(method, path, body);
    bodies.push(JSON.stringify(answer.body ?? null));
    return answer;
  };

beforeAll(async () => {
  t = await createTestApp({ logger: createLogger((line) => logLines.push(line)) });
  const a = await t.signUp("alice@example.com");
  const b = await t.signUp("bob@example.com");
  alice = { userId: a.userId, call: recording(a.call) };
  bob = { userId: b.userId, call: recording(b.call) };
});
afterAll(() => t.close());

describe("API keys over HTTP", () => {
  it("sets, lists, replaces and deletes a user's keys, showing only the last four characters", async () => {
    const empty = await alice.call("GET", "/api/keys");
    expect(empty).toEqual({
      status: 200,
      body: {
        keys: [
          { provider: "openai", set: false },
          { provider: "together", set: false },
          { provider: "llm", set: false },
        ],
      },
    });

    const set = await alice.call("PUT", "/api/keys/openai", { apiKey: `  ${OPENAI_KEY}\n` });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      provider: "openai",
      set: true,
      last4: OPENAI_KEY.slice(-4),
      updatedAt: expect.any(String),
    });
    expect(await t.services.keys.reveal({ userId: alice.userId }, "openai")).toBe(OPENAI_KEY);

    const replaced = await alice.call("PUT", "/api/keys/openai", { apiKey: "sk-replaced-9999" });
    expect(replaced.body.last4).toBe("9999");
    expect(await t.services.keys.reveal({ userId: alice.userId }, "openai")).toBe("sk-replaced-9999");
    await alice.call("PUT", "/api/keys/openai", { apiKey: OPENAI_KEY });
    await alice.call("PUT", "/api/keys/llm", { apiKey: LLM_KEY });

    const listed = await alice.call("GET", "/api/keys");
    expect(listed.body.keys).toEqual([
      { provider: "openai", set: true, last4: OPENAI_KEY.slice(-4), updatedAt: expect.any(String) },
      { provider: "together", set: false },
      { provider: "llm", set: true, last4: LLM_KEY.slice(-4), updatedAt: expect.any(String) },
    ]);

    expect((await alice.call("DELETE", "/api/keys/llm")).status).toBe(204);
    expect((await alice.call("DELETE", "/api/keys/llm")).status).toBe(404);
    expect(await t.services.keys.reveal({ userId: alice.userId }, "llm")).toBeUndefined();
    await alice.call("PUT", "/api/keys/llm", { apiKey: LLM_KEY });
  });

  it("takes the seed's manage-api-keys shape too", async () => {
    const set = await alice.call("POST", "/api/keys", {
      action: "set",
      provider: "together",
      apiKey: TOGETHER_KEY,
    });
    expect(set.status).toBe(200);
    expect(set.body.keys[1]).toMatchObject({
      provider: "together",
      set: true,
      last4: TOGETHER_KEY.slice(-4),
    });
    const status = await alice.call("POST", "/api/keys", { action: "status" });
    expect(status.body.keys.map((k: { set: boolean }) => k.set)).toEqual([true, true, true]);

    await alice.call("POST", "/api/keys", { action: "set", provider: "together", apiKey: "temporary-key" });
    const deleted = await alice.call("POST", "/api/keys", { action: "delete", provider: "together" });
    expect(deleted.body.keys[1]).toEqual({ provider: "together", set: false });
    await alice.call("POST", "/api/keys", { action: "set", provider: "together", apiKey: TOGETHER_KEY });
  });

  it("answers bad input with a 400 naming the field, never echoing the key", async () => {
    const cases: [string, string, unknown, string][] = [
      ["PUT", "/api/keys/anthropic", { apiKey: "sk-ant-0123456789" }, "provider"],
      ["PUT", `/api/keys/${OPENAI_KEY}`, { apiKey: "sk-whatever-123" }, "provider"],
      ["PUT", "/api/keys/openai", { apiKey: "" }, "apiKey"],
      ["PUT", "/api/keys/openai", { apiKey: "   " }, "apiKey"],
      ["PUT", "/api/keys/openai", { apiKey: "sk-short".slice(0, 7) }, "apiKey"],
      ["PUT", "/api/keys/openai", { apiKey: `${OPENAI_KEY} ${OPENAI_KEY}` }, "apiKey"],
      ["PUT", "/api/keys/openai", { apiKey: `${OPENAI_KEY}${"x".repeat(512)}` }, "apiKey"],
      ["PUT", "/api/keys/openai", { apiKey: 12345678 }, "apiKey"],
      ["PUT", "/api/keys/openai", { key: OPENAI_KEY }, "apiKey"],
      ["POST", "/api/keys", { action: "rotate", apiKey: OPENAI_KEY }, "action"],
      ["POST", "/api/keys", { action: "set", provider: "openai" }, "apiKey"],
      ["POST", "/api/keys", { action: "set", provider: OPENAI_KEY, apiKey: OPENAI_KEY }, "provider"],
      ["POST", "/api/keys", { action: "delete" }, "provider"],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await alice.call(method, path, body);
      const label = `${method} ${path.slice(0, 20)} ${JSON.stringify(body).slice(0, 40)}`;
      expect(answer.status, label).toBe(400);
      expect(answer.body.error.code, label).toBe("validation_error");
      expect(
        answer.body.error.details.issues.map((i: { field: string }) => i.field),
        label,
      ).toContain(field);
      expect(JSON.stringify(answer.body), label).not.toContain(OPENAI_KEY);
    }
    expect(await t.services.keys.reveal({ userId: alice.userId }, "openai")).toBe(OPENAI_KEY);
    expect(
      (await t.services.keys.set({ userId: alice.userId }, "openai", "a b c d e f g h").catch((e) => e))
        .message,
    ).toBe("apiKey: must not contain spaces or line breaks");
  });

  it("keeps each user's keys to themselves", async () => {
    const seen = await bob.call("GET", "/api/keys");
    expect(seen.body.keys.every((k: { set: boolean }) => !k.set)).toBe(true);
    expect((await bob.call("DELETE", "/api/keys/openai")).status).toBe(404);
    expect((await bob.call("POST", "/api/keys", { action: "delete", provider: "openai" })).status).toBe(404);
    expect(await t.services.keys.reveal({ userId: alice.userId }, "openai")).toBe(OPENAI_KEY);

    await bob.call("PUT", "/api/keys/openai", { apiKey: BOB_KEY });
    expect(await t.services.keys.reveal({ userId: bob.userId }, "openai")).toBe(BOB_KEY);
    expect(await t.services.keys.reveal({ userId: alice.userId }, "openai")).toBe(OPENAI_KEY);
    expect((await bob.call("GET", "/api/keys")).body.keys[0].last4).toBe(BOB_KEY.slice(-4));
  });

  it("stores only ciphertext, bound to its row: a value copied to another user's row does not decrypt", async () => {
    const { rows } = await t.database.executeSql(
      "SELECT user_id, provider, key_encrypted, key_last4 FROM user_api_keys WHERE user_id = $1 AND provider = 'openai'",
      [alice.userId],
    );
    const sealed = rows[0]?.key_encrypted as string;
    expect(sealed).toMatch(
      new RegExp(`^v1\\.${keyIdOf(TEST_ENCRYPTION_SECRET)}\\.[\\w-]+\\.[\\w-]+\\.[\\w-]+$`),
    );
    expect(rows[0]?.key_last4).toBe(OPENAI_KEY.slice(-4));

    await t.database.executeSql(
      "UPDATE user_api_keys SET key_encrypted = $1 WHERE user_id = $2 AND provider = 'openai'",
      [sealed, bob.userId],
    );
    await expect(t.services.keys.reveal({ userId: bob.userId }, "openai")).rejects.toThrow(/integrity check/);
    const leaked = await bob.call("GET", "/api/keys");
    expect(leaked.status).toBe(200); // status never decrypts
    await bob.call("PUT", "/api/keys/openai", { apiKey: BOB_KEY });
  });

  it("never lets a key reach an API answer, a log line or any database column", async () => {
    expect(bodies.length).toBeGreaterThan(20);
    for (const key of PLAINTEXTS) {
      for (const body of bodies) expect(body).not.toContain(key);
      for (const line of logLines) expect(line).not.toContain(key);
      expect(await tablesContaining(t.database, key), key).toEqual([]);
    }
    // The scan does find what is there.
    expect(await tablesContaining(t.database, "alice@example.com")).toContain("public.users");
    expect(await tablesContaining(t.database, OPENAI_KEY.slice(-4))).toContain("public.user_api_keys");
  });
});

describe("rotating the encryption secret", () => {
  const repository = () => new ApiKeysRepository(t.database.db);
  const underNewSecret = async () =>
    (
      await t.database.executeSql(
        "SELECT count(*)::int AS n FROM user_api_keys WHERE starts_with(key_encrypted, $1)",
        [`v1.${keyIdOf(NEW_SECRET)}.`],
      )
    ).rows[0]?.n;

  it("re-encrypts every key, resumes after an interruption, and the keys still decrypt after", async () => {
    const before = (
      await t.database.executeSql(
        "SELECT user_id, provider, key_last4, updated_at FROM user_api_keys ORDER BY 1, 2",
      )
    ).rows;
    expect(before).toHaveLength(4);

    const old = new KeyService(repository(), TEST_ENCRYPTION_SECRET);
    const crash = new Error("simulated crash after the first batch");
    await expect(
      old.rotate(NEW_SECRET, {
        batchSize: 1,
        onProgress: () => {
          throw crash;
        },
      }),
    ).rejects.toBe(crash);
    expect(await underNewSecret()).toBe(1);

    // Half-way, a key under the new secret names the cause instead of decrypting to garbage.
    const { rows } = await t.database.executeSql(
      "SELECT user_id, provider FROM user_api_keys WHERE starts_with(key_encrypted, $1)",
      [`v1.${keyIdOf(NEW_SECRET)}.`],
    );
    const moved = rows[0] as { user_id: string; provider: "openai" | "together" | "llm" };
    const error = await old.reveal({ userId: moved.user_id }, moved.provider).catch((e) => e);
    expect(error).toBeInstanceOf(WrongSecretError);
    expect(error.message).toMatch(/fineflow keys rotate/);

    const progress: number[] = [];
    const result = await old.rotate(NEW_SECRET, { batchSize: 2, onProgress: (n) => void progress.push(n) });
    expect(result).toEqual({ keyId: keyIdOf(NEW_SECRET), reencrypted: 3, skipped: 1 });
    expect(progress).toEqual([2, 3]);
    expect(await underNewSecret()).toBe(4);

    const rotated = new KeyService(repository(), NEW_SECRET);
    expect(await rotated.reveal({ userId: alice.userId }, "openai")).toBe(OPENAI_KEY);
    expect(await rotated.reveal({ userId: alice.userId }, "together")).toBe(TOGETHER_KEY);
    expect(await rotated.reveal({ userId: alice.userId }, "llm")).toBe(LLM_KEY);
    expect(await rotated.reveal({ userId: bob.userId }, "openai")).toBe(BOB_KEY);
    await expect(old.reveal({ userId: alice.userId }, "openai")).rejects.toThrow(/API_KEY_ENCRYPTION_SECRET/);

    const after = (
      await t.database.executeSql(
        "SELECT user_id, provider, key_last4, updated_at FROM user_api_keys ORDER BY 1, 2",
      )
    ).rows;
    expect(after).toEqual(before);
    expect(await rotated.rotate(NEW_SECRET)).toEqual({
      keyId: keyIdOf(NEW_SECRET),
      reencrypted: 0,
      skipped: 4,
    });
    for (const key of PLAINTEXTS) expect(await tablesContaining(t.database, key)).toEqual([]);
  });
});

describe("the encryption secret at start-up", () => {
  it("refuses server mode without API_KEY_ENCRYPTION_SECRET, before connecting", async () => {
    const config = loadConfig({ DATABASE_URL: "postgres://nobody@127.0.0.1:9/nowhere" });
    await expect(openRuntime(config, "test", silentLogger)).rejects.toThrow(
      /API_KEY_ENCRYPTION_SECRET must be set with DATABASE_URL/,
    );
  });
});
