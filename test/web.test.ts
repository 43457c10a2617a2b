import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./helpers/browser.js";
import { runCli, startServer } from "./helpers/run-cli.js";

let dataDir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
/** The environment the CLI reaches the server's data directory with. */
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-web-"));
  env = { FINEFLOW_DATA_DIR: dataDir };
  server = await startServer(env);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  server?.child.kill("SIGTERM");
  if (server) await new Promise((resolve) => server.child.once("exit", resolve));
  await rm(dataDir, { recursive: true, force: true });
});

it("signs the local owner in by the printed link, then creates and lists a project in the browser", async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.getByRole("heading", { name: "Sign in to FineFlow" }).waitFor();

  await page.goto(server.loginLink ?? "");
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  expect(await page.getByText("No projects yet.").isVisible()).toBe(true);

  const form = page.getByRole("form", { name: "New project" });
  await form.getByLabel("Name").fill("Handbook");
  await form.getByLabel("Monthly budget (USD)").fill("30");
  await form.getByLabel("When over budget").selectOption("block");
  await form.getByRole("button", { name: "Create project" }).click();
  await page.getByText("$30.00/month (block)").waitFor();

  await form.getByLabel("Name").fill("Handbook");
  await form.getByRole("button", { name: "Create project" }).click();
  expect(await page.getByRole("alert").textContent()).toContain('already have a project named "Handbook"');

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to FineFlow" }).waitFor();
  await page.close();
});

it("sends a used link to the sign-in page, which says so and how to get a new one", async () => {
  // The test above redeemed the printed link; this browser context has no session of its own.
  const page = await browser.newPage();
  await page.goto(server.loginLink ?? "");
  await page.getByRole("heading", { name: "Sign in to FineFlow" }).waitFor();
  expect(await page.getByRole("status").textContent()).toContain(
    "sign-in link was already used or has expired",
  );
  expect(await page.getByRole("main").textContent()).toContain("run fineflow signin-link");
  expect(new URL(page.url()).search).toBe("");
  await page.close();
});

const open = (url: string, cookie?: string) =>
  fetch(url, { redirect: "manual", headers: cookie ? { cookie } : {} });

// After the browser's tests, on the same server: the printed link is used by then.
describe("fineflow signin-link", { timeout: 120_000 }, () => {
  it("refuses without a running server: a link made in-process would have nowhere to be opened", async () => {
    const idle = await mkdtemp(join(tmpdir(), "fineflow-no-server-"));
    const refused = await runCli(["signin-link"], { FINEFLOW_DATA_DIR: idle });
    await rm(idle, { recursive: true, force: true });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: No FineFlow server is running on .*start `fineflow serve` first/);
    expect(refused.stdout).toBe("");
  });

  it("prints a new one-time link of the running server that signs the local owner in once", async () => {
    expect(server.output()).toContain("For a new link later, run `fineflow signin-link`.");

    const printed = await runCli(["signin-link"], env);
    expect(printed.stderr).toBe("");
    expect(printed.code).toBe(0);
    const link = printed.stdout.match(/^Sign in \(one-time link, valid until [^)]+\): (\S+)\n$/)?.[1] ?? "";
    expect(link.startsWith(`${server.url}/api/auth/link?token=`)).toBe(true);
    expect(link).not.toBe(server.loginLink);

    const signedIn = await open(link);
    expect(signedIn.status).toBe(302);
    expect(signedIn.headers.get("location")).toBe("/");
    const cookie = (signedIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/^fineflow_session=./);
    const me = await (await open(`${server.url}/api/auth/me`, cookie)).json();
    expect(me.user.isLocalOwner).toBe(true);

    const again = await open(link);
    expect(again.headers.get("location")).toBe("/?signin=expired");
    // The token is a credential: requests for it leave no trace of it in the server's logs.
    expect(server.output()).not.toContain(new URL(link).searchParams.get("token"));
  });

  it("prints the link and its expiry as JSON", async () => {
    const printed = await runCli(["signin-link", "--json"], env);
    expect(printed.code).toBe(0);
    const { url, expiresAt } = JSON.parse(printed.stdout);
    expect(url.startsWith(`${server.url}/api/auth/link?token=`)).toBe(true);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now() + 14 * 60_000);
  });
});
