import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "./helpers/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const anonymous = (path: string, init?: RequestInit) => t.app.request(path, init);

describe("the HTTP API", () => {
  it("answers health without sign-in, naming the database", async () => {
    const response = await anonymous("/api/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", database: t.database.kind });
  });

  it("refuses everything else without a session or token, in the one error shape", async () => {
    for (const path of ["/api/projects", "/api/auth/me", "/api/tokens", "/api/openapi.json"]) {
      const response = await anonymous(path);
      expect(response.status, path).toBe(401);
      expect(await response.json()).toEqual({
        error: { code: "unauthorized", message: "Sign in or send an API token." },
      });
    }
    // A token or a session sent and refused is said to be: the user has one, and it needs replacing.
    const badToken = await anonymous("/api/projects", {
      headers: { authorization: "Bearer ff_not-a-real-token" },
    });
    expect(badToken.status).toBe(401);
    expect((await badToken.json()).error.message).toBe(
      "The API token sent is unknown or revoked: create a new one with `fineflow token create`.",
    );
    const ended = await anonymous("/api/projects", { headers: { cookie: "fineflow_session=expired" } });
    expect(ended.status).toBe(401);
    expect((await ended.json()).error.message).toBe("The session has ended: sign in again.");
  });

  it("creates, lists, reads, updates and deletes a user's projects", async () => {
    const { call } = await t.signUp("crud@example.com");
    const created = await call("POST", "/api/projects", { name: " Support docs ", monthlyBudgetUsd: 25 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "Support docs",
      monthlyBudgetUsd: 25,
      budgetEnforcement: "warn",
    });
    expect(created.body).not.toHaveProperty("userId");
    const id = created.body.id as string;

    expect((await call("GET", "/api/projects")).body.projects.map((p: { id: string }) => p.id)).toEqual([id]);
    expect((await call("GET", `/api/projects/${id}`)).body.name).toBe("Support docs");

    const updated = await call("PATCH", `/api/projects/${id}`, {
      budgetEnforcement: "block",
      monthlyBudgetUsd: null,
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      budgetEnforcement: "block",
      monthlyBudgetUsd: null,
      name: "Support docs",
    });

    expect((await call("DELETE", `/api/projects/${id}`)).status).toBe(204);
    expect((await call("GET", `/api/projects/${id}`)).status).toBe(404);
  });

  it("answers 404 for another user's project and never shows or changes it", async () => {
    const alice = await t.signUp("alice@example.com");
    const bob = await t.signUp("bob@example.com");
    const { body: project } = await alice.call("POST", "/api/projects", {
      name: "Private",
      description: "secret plans",
    });

    for (const [method, body] of [["GET"], ["PATCH", { name: "Stolen" }], ["DELETE"]] as const) {
      const answer = await bob.call(method, `/api/projects/${project.id}`, body);
      expect(answer.status, method).toBe(404);
      expect(JSON.stringify(answer.body)).not.toContain("secret plans");
    }
    expect((await bob.call("GET", "/api/projects")).body.projects).toEqual([]);
    expect((await alice.call("GET", `/api/projects/${project.id}`)).body).toMatchObject({
      name: "Private",
      description: "secret plans",
    });
  });

  it("rejects bad bodies with 400 naming the field, and stores nothing", async () => {
    const { call } = await t.signUp("bad-input@example.com");
    const cases: [unknown, string][] = [
      [{}, "name"],
      [{ name: "" }, "name"],
      [{ name: "x".repeat(101) }, "name"],
      [{ name: "ok", monthlyBudgetUsd: -1 }, "monthlyBudgetUsd"],
      [{ name: "ok", monthlyBudgetUsd: "ten" }, "monthlyBudgetUsd"],
      [{ name: "ok", budgetEnforcement: "maybe" }, "budgetEnforcement"],
    ];
    for (const [body, field] of cases) {
      const answer = await call("POST", "/api/projects", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe("validation_error");
      expect(answer.body.error.details.issues.map((i: { field: string }) => i.field)).toContain(field);
    }
    // The database's text cannot hold a NUL, in a body or a query: it was an internal error.
    const nul = await call("POST", "/api/projects", { name: "a\u0000b", description: "ok" });
    expect(nul.status).toBe(400);
    expect(nul.body.error.details.issues).toEqual([
      { field: "name", message: "must not contain a NUL character (U+0000)" },
    ]);
    const nulQuery = await call("GET", "/api/datasets?name=a%00b");
    expect(nulQuery.status).toBe(400);
    expect(nulQuery.body.error.message).toBe("name: must not contain a NUL character (U+0000)");
    const notJson = await call("POST", "/api/projects", "{not json");
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe("bad_request");
    expect((await call("GET", "/api/projects")).body.projects).toEqual([]);
  });

  it("says what is wrong with a field in plain words, in bodies and in queries alike", async () => {
    const { call } = await t.signUp("plain-words@example.com");
    const project = (await call("POST", "/api/projects", { name: "Words" })).body;
    const issuesOf = async (method: string, path: string, body?: unknown) => {
      const answer = await call(method, path, body);
      expect(answer.status, path).toBe(400);
      return answer.body.error.details.issues;
    };
    // zod's own words were "Invalid input: expected string, received undefined", "Too big: expected string
    // to have <=2000 characters", "Too big: expected number to be <=1", "Invalid option: expected one of …".
    expect(await issuesOf("POST", "/api/projects", {})).toEqual([{ field: "name", message: "is required" }]);
    expect(await issuesOf("POST", "/api/projects", { name: 7 })).toEqual([
      { field: "name", message: "must be a string, not a number" },
    ]);
    expect(await issuesOf("PATCH", `/api/projects/${project.id}`, { description: "x".repeat(2001) })).toEqual(
      [{ field: "description", message: "must be at most 2,000 characters" }],
    );
    expect(await issuesOf("GET", `/api/projects/${project.id}/chunks?minQuality=2&limit=0`)).toEqual([
      { field: "minQuality", message: "must be at most 1" },
      { field: "limit", message: "must be at least 1" },
    ]);
    expect(await issuesOf("GET", `/api/projects/${project.id}/chunks?duplicates=maybe`)).toEqual([
      { field: "duplicates", message: 'must be one of "only", "exclude"' },
    ]);
  });

  it("answers a method a route does not take with 405 and the ones it does (OPTIONS: 204), a body of another type with 415", async () => {
    const { call, token } = await t.signUp("methods@example.com");
    const project = (await call("POST", "/api/projects", { name: "Methods" })).body;
    const put = await t.app.request(`/api/projects/${project.id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Renamed" }),
    });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, PATCH, DELETE, HEAD");
    expect(await put.json()).toEqual({
      error: {
        code: "method_not_allowed",
        message: `/api/projects/${project.id} takes GET, PATCH, DELETE, not PUT.`,
      },
    });
    expect((await call("GET", "/api/projects/x/nowhere")).status).toBe(404);
    const options = await t.app.request(`/api/projects/${project.id}/documents`, {
      method: "OPTIONS",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, POST, HEAD");

    const upload = await call("POST", `/api/projects/${project.id}/documents`, { files: ["a.md"] });
    expect(upload.status).toBe(415);
    expect(upload.body.error).toEqual({
      code: "unsupported_media_type",
      message: expect.stringContaining("multipart/form-data"),
    });
    expect((await call("GET", `/api/projects/${project.id}`)).body.name).toBe("Methods");
    expect((await call("GET", `/api/projects/${project.id}/documents`)).body.documents).toEqual([]);
  });

  it("keeps chunking settings per project, refusing an overlap of half a chunk or more", async () => {
    const { call } = await t.signUp("chunking@example.com");
    const defaults = await call("POST", "/api/projects", { name: "Defaults" });
    expect(defaults.body).toMatchObject({ chunkTargetTokens: 512, chunkOverlapTokens: 50 });
    // A target given alone gets the defaults' share of overlap (50 of 512), not 50: half of 64 is 32.
    const tiny = await call("POST", "/api/projects", { name: "Tiny chunks", chunkTargetTokens: 64 });
    expect(tiny.status).toBe(201);
    expect(tiny.body).toMatchObject({ chunkTargetTokens: 64, chunkOverlapTokens: 6 });
    const created = await call("POST", "/api/projects", { name: "Small chunks", chunkTargetTokens: 128 });
    expect(created.body).toMatchObject({
      chunkTargetTokens: 128,
      chunkOverlapTokens: 13,
      duplicateThreshold: 0.8,
    });

    const tooMuch = await call("POST", "/api/projects", {
      name: "Bad",
      chunkTargetTokens: 100,
      chunkOverlapTokens: 50,
    });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error.details.issues).toEqual([
      { field: "chunkOverlapTokens", message: "must be less than half of chunkTargetTokens (100)" },
    ]);
    const patch = await call("PATCH", `/api/projects/${created.body.id}`, { chunkOverlapTokens: 64 });
    expect(patch.status).toBe(400);
    expect(patch.body.error.details.issues[0].field).toBe("chunkOverlapTokens");
    // A target given alone is what is refused, against the overlap the project has, which the user did not type.
    const wide = await call("POST", "/api/projects", { name: "Wide overlap", chunkOverlapTokens: 30 });
    const target = await call("PATCH", `/api/projects/${wide.body.id}`, { chunkTargetTokens: 40 });
    expect(target.status).toBe(400);
    expect(target.body.error.details.issues).toEqual([
      {
        field: "chunkTargetTokens",
        message: "must be more than twice chunkOverlapTokens (30); lower chunkOverlapTokens too",
      },
    ]);
    const threshold = await call("PATCH", `/api/projects/${created.body.id}`, { duplicateThreshold: 0.3 });
    expect(threshold.body.error.details.issues[0].field).toBe("duplicateThreshold");

    const ok = await call("PATCH", `/api/projects/${created.body.id}`, {
      chunkOverlapTokens: 10,
      duplicateThreshold: 0.9,
    });
    expect(ok.body).toMatchObject({
      chunkTargetTokens: 128,
      chunkOverlapTokens: 10,
      duplicateThreshold: 0.9,
    });
  });

  it("never stores an overlap of half a chunk from two changes at once, each valid alone", async () => {
    const { call } = await t.signUp("race@example.com");
    const project = await call("POST", "/api/projects", { name: "Raced", chunkOverlapTokens: 20 });
    const [smaller, wider] = await Promise.all([
      call("PATCH", `/api/projects/${project.body.id}`, { chunkTargetTokens: 64 }),
      call("PATCH", `/api/projects/${project.body.id}`, { chunkOverlapTokens: 40 }),
    ]);
    expect([smaller.status, wider.status].sort()).toEqual([200, 400]);
    const refused = smaller.status === 400 ? smaller : wider;
    // Each change is told off in its own terms: the target by the overlap it had to clear, and back.
    expect(refused.body.error.details.issues).toEqual([
      refused === smaller
        ? {
            field: "chunkTargetTokens",
            message: "must be more than twice chunkOverlapTokens (40); lower chunkOverlapTokens too",
          }
        : { field: "chunkOverlapTokens", message: "must be less than half of chunkTargetTokens (64)" },
    ]);
    const stored = (await call("GET", `/api/projects/${project.body.id}`)).body;
    expect(stored.chunkOverlapTokens * 2).toBeLessThan(stored.chunkTargetTokens);
  });

  it("refuses a second project with the same name with 409, keeping the first", async () => {
    const { call } = await t.signUp("dupe@example.com");
    const first = await call("POST", "/api/projects", { name: "Docs", description: "first" });
    const second = await call("POST", "/api/projects", { name: "Docs", description: "second" });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain("Docs");
    expect((await call("GET", "/api/projects")).body.projects).toEqual([first.body]);
  });

  it("issues, lists and revokes personal API tokens without ever listing the secret", async () => {
    const { call, token } = await t.signUp("tokens@example.com");
    const created = await call("POST", "/api/tokens", { name: "laptop" });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^ff_[A-Za-z0-9_-]{43}$/);
    const listing = await call("GET", "/api/tokens");
    expect(JSON.stringify(listing.body)).not.toContain(created.body.token);
    expect(JSON.stringify(listing.body)).not.toContain(token);
    expect(listing.body.tokens.map((x: { name: string }) => x.name).sort()).toEqual(["laptop", "test"]);

    const withNew = { headers: { authorization: `Bearer ${created.body.token}` } };
    expect((await anonymous("/api/auth/me", withNew)).status).toBe(200);
    expect((await call("DELETE", `/api/tokens/${created.body.id}`)).status).toBe(204);
    expect((await anonymous("/api/auth/me", withNew)).status).toBe(401);
  });

  it("signs in with a password into an HTTP-only session cookie, and out again", async () => {
    await t.services.auth.createUser({ email: "cookie@example.com", password: "correct horse battery" });
    const wrong = await anonymous("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "cookie@example.com", password: "wrong password" }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const login = await anonymous("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "Cookie@Example.com", password: "correct horse battery" }),
    });
    expect(login.status).toBe(200);
    // The user as `/api/auth/me` gives it, and nothing of their password: the body held its argon2 hash.
    const signedIn = await login.json();
    expect(Object.keys(signedIn.user).sort()).toEqual(["createdAt", "email", "id", "isLocalOwner"]);
    expect(JSON.stringify(signedIn)).not.toContain("argon2");
    const setCookie = login.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(";")[0] ?? "";
    const me = await anonymous("/api/auth/me", { headers: { cookie } });
    expect((await me.json()).user.email).toBe("cookie@example.com");

    expect((await anonymous("/api/auth/logout", { method: "POST", headers: { cookie } })).status).toBe(204);
    expect((await anonymous("/api/auth/me", { headers: { cookie } })).status).toBe(401);
  });

  it("refuses a request body over its limit before reading it: a sign-in's at 64 KB, any other's at 64 MB", async () => {
    const login = await anonymous("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "big@example.com", password: "x".repeat(70 * 1024) }),
    });
    expect(login.status).toBe(413);
    expect((await login.json()).error).toEqual({
      code: "payload_too_large",
      message: "The request's body is over 64 KB.",
    });

    const { call } = await t.signUp("big@example.com");
    const project = await call("POST", "/api/projects", {
      name: "big",
      description: "x".repeat(65 * 1024 * 1024),
    });
    expect(project.status).toBe(413);
    expect(project.body.error.message).toBe("The request's body is over 64 MB.");
    // Under the limit, a body is read as before: here, refused for what it says.
    const long = await call("POST", "/api/projects", { name: "big", description: "x".repeat(100 * 1024) });
    expect(long.status).toBe(400);
    expect((await call("GET", "/api/projects")).body.projects).toEqual([]);
  });

  it("serves its OpenAPI document describing the routes", async () => {
    const { call } = await t.signUp("docs@example.com");
    const { status, body } = await call("GET", "/api/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        "/api/health",
        "/api/projects",
        "/api/projects/{id}",
        "/api/auth/login",
        "/api/tokens",
      ]),
    );
    expect(body.components.schemas.Error).toBeDefined();
  });

  it("answers unknown API routes with 404 in the error shape", async () => {
    const { call } = await t.signUp("unknown@example.com");
    const answer = await call("GET", "/api/nothing-here");
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe("not_found");
  });
});
