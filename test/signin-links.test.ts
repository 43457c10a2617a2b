import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsersRepository } from "../src/db/repositories/users-repository.js";
import { AuthService } from "../src/services/auth-service.js";
import { createTestApp, type TestApp } from "./helpers/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const anonymous = (path: string, init?: RequestInit) => t.app.request(path, init);
const redeem = (token: string) => anonymous(`/api/auth/link?token=${token}`);
const sessionCookie = (response: Response) => (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
const signedInAs = async (cookie: string) =>
  (await (await anonymous("/api/auth/me", { headers: { cookie } })).json()).user;

describe("one-time sign-in links", () => {
  it("sign in once; a used link leads to the web app's sign-in page, which says so", async () => {
    const owner = await t.services.auth.ensureLocalOwner();
    const { token } = await t.services.auth.createLoginLink({ userId: owner.id });
    const first = await redeem(token);
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe("/");
    expect((await signedInAs(sessionCookie(first))).isLocalOwner).toBe(true);

    const again = await redeem(token);
    expect(again.status).toBe(302);
    expect(again.headers.get("location")).toBe("/?signin=expired");
    expect(again.headers.get("set-cookie")).toBeNull();
    // Opened again in the browser it signed in, it just goes to the app: that browser is signed in.
    const sameBrowser = await anonymous(`/api/auth/link?token=${token}`, {
      headers: { cookie: sessionCookie(first) },
    });
    expect(sameBrowser.headers.get("location")).toBe("/");
  });

  it("are not used up by a HEAD request (a link checker's), and one cut short leads to the sign-in page", async () => {
    const owner = await t.services.auth.ensureLocalOwner();
    const { token } = await t.services.auth.createLoginLink({ userId: owner.id });
    const checked = await anonymous(`/api/auth/link?token=${token}`, { method: "HEAD" });
    expect(checked.headers.get("set-cookie")).toBeNull();
    const opened = await redeem(token);
    expect(opened.headers.get("location")).toBe("/");
    expect((await signedInAs(sessionCookie(opened))).isLocalOwner).toBe(true);

    for (const path of ["/api/auth/link", "/api/auth/link?token="]) {
      const response = await anonymous(path);
      expect(response.status, path).toBe(302);
      expect(response.headers.get("location"), path).toBe("/?signin=expired");
    }
  });

  it("that expired lead to the sign-in page too", async () => {
    const owner = await t.services.auth.ensureLocalOwner();
    // Made 16 minutes ago, by a clock that far behind: its 15 minutes are over.
    const earlier = new AuthService(
      new UsersRepository(t.database.db),
      () => new Date(Date.now() - 16 * 60_000),
    );
    const { token } = await earlier.createLoginLink({ userId: owner.id });
    const response = await redeem(token);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/?signin=expired");
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  it("are made by POST /api/auth/links for the caller only, and only for a signed-in caller", async () => {
    const ana = await t.signUp("ana@example.com");
    const bob = await t.signUp("bob@example.com");
    const before = Date.now();
    // Naming someone else is not a thing the route reads: the link is always the caller's.
    const created = await ana.call("POST", "/api/auth/links", {
      userId: bob.userId,
      email: "bob@example.com",
    });
    expect(created.status).toBe(201);
    expect(Date.parse(created.body.expiresAt) - before).toBeGreaterThan(14 * 60_000);
    expect(Date.parse(created.body.expiresAt) - before).toBeLessThanOrEqual(15 * 60_000 + 5_000);

    const signedIn = await redeem(created.body.token);
    expect(signedIn.headers.get("location")).toBe("/");
    expect((await signedInAs(sessionCookie(signedIn))).email).toBe("ana@example.com");

    const refused = await anonymous("/api/auth/links", { method: "POST" });
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("unauthorized");
  });

  it("are documented as they behave: the link route only redirects", async () => {
    const { call } = await t.signUp("docs-links@example.com");
    const { paths } = (await call("GET", "/api/openapi.json")).body;
    expect(Object.keys(paths["/api/auth/link"].get.responses)).toEqual(["302"]);
    expect(paths["/api/auth/link"].get.description).toContain("/?signin=expired");
    expect(Object.keys(paths["/api/auth/links"].post.responses)).toEqual(["201", "401"]);
  });
});
