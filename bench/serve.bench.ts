import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCorpus } from "./corpus.js";

/**
 * Whether `fineflow serve` keeps answering while it processes one large document: the web app polls the
 * document list, and a server that stalls for seconds looks hung (past Node's 5 s keep-alive timeout, a
 * waiting client's connection is reset). One Markdown file (`--mb`, default 20) is uploaded to the server
 * running as users run it, on the embedded database; then the health check and the document list are asked
 * for every 50 ms until the document is ready. The figure: the longest wait for an answer, against the
 * time the document took to process in the same run. Target: the longest stall ≤ 25% of that time (with
 * analysis on the main thread, every request waited for nearly all of it).
 */
const mbArg = process.argv.indexOf("--mb");
const documentMb = mbArg > 0 ? Number(process.argv[mbArg + 1]) : 20;
const MB = 1024 * 1024;
const TARGET = 0.25;

const [document] = generateCorpus(documentMb * MB, documentMb * MB);
if (!document) throw new Error("the corpus generator gave no document");
const dataDir = mkdtempSync(join(tmpdir(), "fineflow-bench-serve-"));
const port = 20_000 + (process.pid % 20_000);
const root = fileURLToPath(new URL("..", import.meta.url));
// The README's `npm start`, run as npm runs it but without npm's own process in between.
const [node, ...startArgs] = (
  JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: { start: string } }
).scripts.start.split(" ");
if (node !== "node") throw new Error(`npm start no longer runs node: ${node}`);
const server = spawn(process.execPath, startArgs, {
  cwd: root,
  env: { ...process.env, FINEFLOW_DATA_DIR: dataDir, PORT: String(port), DATABASE_URL: "" },
  stdio: ["ignore", "pipe", "pipe"],
});
// Both streams, shown only should the server not start.
let output = "";
for (const stream of [server.stdout, server.stderr]) {
  stream.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
}

try {
  let link: string | undefined;
  for (let i = 0; i < 300 && !link; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    link = output.match(/http:\/\/\S+\/api\/auth\/link\?token=\S+/)?.[0];
  }
  if (!link) throw new Error(`fineflow serve printed no sign-in link:\n${output}`);
  const base = new URL(link).origin;
  const signedIn = await fetch(link, { redirect: "manual" });
  const cookie = signedIn.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const call = (method: string, path: string, body?: BodyInit, type?: string) =>
    fetch(base + path, {
      method,
      body,
      headers: { cookie, origin: base, ...(type ? { "content-type": type } : {}) },
    });
  const project = (await (
    await call("POST", "/api/projects", JSON.stringify({ name: "serve" }), "application/json")
  ).json()) as { id: string };
  const form = new FormData();
  form.append("files", new Blob([document]), "large.md");
  const uploaded = await call("POST", `/api/projects/${project.id}/documents`, form);
  if (uploaded.status !== 201) throw new Error(`the upload answered ${uploaded.status}`);

  const started = performance.now();
  const waits: number[] = [];
  let resets = 0;
  /** One request's wait for its whole answer; a connection reset counts as a wait that ended without one. */
  const timed = async (request: () => Promise<Response>): Promise<string | undefined> => {
    const sent = performance.now();
    try {
      const response = await request();
      const body = await response.text();
      waits.push(performance.now() - sent);
      return response.ok ? body : undefined;
    } catch {
      waits.push(performance.now() - sent);
      resets++;
      return undefined;
    }
  };
  let status = "pending";
  let chunks = 0;
  while (status === "pending" || status === "processing") {
    await timed(() => call("GET", "/api/health"));
    const listed = await timed(() => call("GET", `/api/projects/${project.id}/documents`));
    if (listed) {
      const { documents } = JSON.parse(listed) as { documents: { status: string; chunkCount: number }[] };
      status = documents[0]?.status ?? "missing";
      chunks = documents[0]?.chunkCount ?? 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = [...waits].sort((a, b) => a - b);
  const longest = (sorted.at(-1) ?? 0) / 1000;
  const median = (sorted[sorted.length >> 1] ?? 0) / 1000;
  const ratio = longest / seconds;
  console.log(`document: ${documentMb} MB of Markdown, ${chunks.toLocaleString("en-US")} chunks, ${status}`);
  console.log(`processed in ${seconds.toFixed(1)} s through fineflow serve on PGlite`);
  console.log(
    `requests answered meanwhile: ${waits.length - resets} of ${waits.length} (${resets} connections reset); ` +
      `median wait ${(median * 1000).toFixed(0)} ms, longest ${longest.toFixed(2)} s`,
  );
  console.log(
    `ratio longest stall / processing time: ${ratio.toFixed(2)} (target ≤ ${TARGET.toFixed(2)}) ` +
      `${ratio <= TARGET && status === "ready" ? "PASS" : "MISS"}`,
  );
  process.exitCode = ratio <= TARGET && status === "ready" ? 0 : 1;
} finally {
  server.kill("SIGTERM");
  await new Promise((resolve) => server.once("exit", resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
