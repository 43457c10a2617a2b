import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TEST_ENCRYPTION_SECRET } from "./test-secret.js";

export const CLI = fileURLToPath(new URL("../../bin/fineflow.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a test's CLI runs in: only what it is given, so the developer's settings never leak in.
 * Server mode (DATABASE_URL) gets the tests' encryption secret unless the test sets its own (`""`: none).
 */
export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const secret = env.DATABASE_URL ? { API_KEY_ENCRYPTION_SECRET: TEST_ENCRYPTION_SECRET } : {};
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...secret, ...env };
}

/** Runs `fineflow …` as a user would, as a separate process (in `cwd`, else the tests' own folder). */
export function runCli(
  args: string[],
  env: Record<string, string>,
  input?: string,
  cwd?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env), cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

/**
 * Starts `fineflow serve` (or, with `npm`, the README's `npm start`, in a process group of its own) and
 * resolves with its URL and sign-in link once it listens.
 */
export function startServer(
  env: Record<string, string>,
  how: "cli" | "npm" = "cli",
): Promise<{ child: ChildProcess; url: string; loginLink?: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child =
      how === "npm"
        ? spawn("npm", ["start", "--", "--port", "0"], { env: cliEnv(env), cwd: ROOT, detached: true })
        : spawn(process.execPath, [CLI, "serve", "--port", "0"], { env: cliEnv(env) });
    let output = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d;
      const url = output.match(/running at (http:\/\/\S+)/)?.[1];
      const embedded = output.includes("(database: embedded");
      const loginLink = output.match(/Sign in[^:]*: (http:\/\/\S+)/)?.[1];
      if (url && (!embedded || loginLink)) {
        clearTimeout(timer);
        resolve({ child, url, loginLink, output: () => output });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}
