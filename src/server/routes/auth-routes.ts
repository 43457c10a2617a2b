import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { UnauthorizedError } from "../../core/errors.js";
import { createTokenSchema, loginSchema } from "../../core/inputs.js";
import type { PublicUser } from "../../db/repositories/users-repository.js";
import type { AuthService } from "../../services/auth-service.js";
import { type AppEnv, SESSION_COOKIE } from "../env.js";
import { ApiTokenSchema, errorResponses, IdParams, json, UserSchema } from "../schemas.js";

/** Field by field, so that nothing else a user's row may hold (such as a password's hash) goes out. */
export const toUserDto = ({ id, email, isLocalOwner, createdAt }: PublicUser) => ({
  id,
  email,
  isLocalOwner,
  createdAt: createdAt.toISOString(),
});

/** Accepts a personal API token (`Authorization: Bearer ff_…`) or the web app's session cookie. */
export function requireUser(auth: AuthService): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const session = getCookie(c, SESSION_COOKIE);
    const user = bearer
      ? await auth.userForApiToken(bearer)
      : session
        ? await auth.userForSession(session)
        : undefined;
    // A token that was sent and refused is not a missing one: the user has one to replace.
    if (!user && bearer) {
      throw new UnauthorizedError(
        "The API token sent is unknown or revoked: create a new one with `fineflow token create`.",
      );
    }
    if (!user && session) throw new UnauthorizedError("The session has ended: sign in again.");
    if (!user) throw new UnauthorizedError();
    c.set("user", user);
    c.set("actor", { userId: user.id });
    await next();
  };
}

function startSession(c: Parameters<MiddlewareHandler>[0], token: string) {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Strict",
    path: "/",
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: 30 * 24 * 3600,
  });
}

/** A link opened again in the browser it signed in has nothing to say: that browser is still signed in. */
async function isSignedIn(c: Parameters<MiddlewareHandler>[0], auth: AuthService): Promise<boolean> {
  const session = getCookie(c, SESSION_COOKIE);
  return session !== undefined && (await auth.userForSession(session)) !== undefined;
}

const LOGIN_LINK_PATH = "/api/auth/link";
/** The web app's sign-in page reads this query parameter to say why the link did not sign the user in. */
const LINK_REFUSED_PAGE = "/?signin=expired";

/** Where a link token is redeemed on the server at `serverUrl`: what `serve` and `signin-link` print. */
export function loginLinkUrl(serverUrl: string, token: string): string {
  const url = new URL(LOGIN_LINK_PATH, serverUrl);
  url.searchParams.set("token", token);
  return url.toString();
}

/** Routes open without a session: sign-in by password and by one-time link. */
export function publicAuthRoutes(app: OpenAPIHono<AppEnv>, auth: AuthService) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/auth/login",
      summary: "Sign in with email and password; sets the session cookie",
      request: { body: { content: { "application/json": { schema: loginSchema } }, required: true } },
      responses: { 200: json(z.object({ user: UserSchema }), "Signed in"), ...errorResponses },
    }),
    async (c) => {
      const { user, sessionToken } = await auth.login(c.req.valid("json"));
      startSession(c, sessionToken);
      return c.json({ user: toUserDto(user) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: LOGIN_LINK_PATH,
      summary: "Redeem a one-time sign-in link (printed by `fineflow serve` and `fineflow signin-link`)",
      description:
        "Opened by a browser, so it answers with redirects only: a used, expired or unknown link leads to " +
        `the web app's sign-in page (\`${LINK_REFUSED_PAGE}\`), which says how to get a new link, unless the ` +
        "browser is signed in already.",
      // A link cut short (no token, or an empty one) is refused like any other, with the same redirect.
      request: { query: z.object({ token: z.string().default("") }) },
      responses: {
        302: {
          description: `Signed in: redirects to \`/\`. Not signed in: redirects to \`${LINK_REFUSED_PAGE}\`.`,
        },
      },
    }),
    async (c) => {
      // A link checker or a chat app's preview asks with HEAD: it must not use the link up.
      if (c.req.method === "HEAD") return c.body(null, 200);
      const session = await auth.redeemLoginLink(c.req.valid("query").token);
      if (!session) return c.redirect((await isSignedIn(c, auth)) ? "/" : LINK_REFUSED_PAGE, 302);
      startSession(c, session);
      return c.redirect("/", 302);
    },
  );
}

/** Routes for the signed-in user: who am I, sign out, personal API tokens. */
export function authRoutes(app: OpenAPIHono<AppEnv>, auth: AuthService) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/auth/me",
      summary: "The signed-in user",
      responses: { 200: json(z.object({ user: UserSchema }), "The user"), 401: errorResponses[401] },
    }),
    (c) => c.json({ user: toUserDto(c.get("user")) }, 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/auth/logout",
      summary: "End the browser session",
      responses: { 204: { description: "Signed out" }, 401: errorResponses[401] },
    }),
    async (c) => {
      const session = getCookie(c, SESSION_COOKIE);
      if (session) await auth.logout(session);
      deleteCookie(c, SESSION_COOKIE, { path: "/" });
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/auth/links",
      summary: "Create a one-time sign-in link for yourself, valid 15 minutes; the token is shown once",
      description: `Open \`${LOGIN_LINK_PATH}?token=…\` on this server in a browser to sign in as the caller.`,
      responses: {
        201: json(z.object({ token: z.string(), expiresAt: z.iso.datetime() }), "The link's token"),
        401: errorResponses[401],
      },
    }),
    async (c) => {
      const { token, expiresAt } = await auth.createLoginLink(c.get("actor"));
      return c.json({ token, expiresAt: expiresAt.toISOString() }, 201);
    },
  );

  const toTokenDto = (t: { id: string; name: string; createdAt: Date; lastUsedAt: Date | null }) => ({
    id: t.id,
    name: t.name,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  });

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/tokens",
      summary: "Create a personal API token; the token is shown in this answer only",
      request: {
        body: { content: { "application/json": { schema: createTokenSchema } }, required: true },
      },
      responses: {
        201: json(ApiTokenSchema.extend({ token: z.string() }), "The new token"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const created = await auth.createApiToken(c.get("actor"), c.req.valid("json"));
      return c.json({ ...toTokenDto(created), token: created.token }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/tokens",
      summary: "List your API tokens (never the tokens themselves)",
      responses: {
        200: json(z.object({ tokens: z.array(ApiTokenSchema) }), "Your tokens"),
        401: errorResponses[401],
      },
    }),
    async (c) => c.json({ tokens: (await auth.listApiTokens(c.get("actor"))).map(toTokenDto) }, 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/tokens/{id}",
      summary: "Revoke an API token",
      request: { params: IdParams },
      responses: { 204: { description: "Revoked" }, ...errorResponses },
    }),
    async (c) => {
      await auth.revokeApiToken(c.get("actor"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
}
