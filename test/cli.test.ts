import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counted } from "../src/core/counted.js";
import { VERSION } from "../src/version.js";
import { CLI, cliEnv, runCli, startServer } from "./helpers/run-cli.js";

let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "fineflow-cli-"));
  env = { FINEFLOW_DATA_DIR: dataDir };
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

// Each CLI call starts a process that opens the database: generous time, since CI machines are shared.
describe("fineflow on the embedded database", { timeout: 120_000 }, () => {
  it("creates and lists projects as the local owner, with machine-readable --json", async () => {
    const created = await runCli(
      ["project", "create", "demo", "--budget", "40", "--enforce", "block", "--json"],
      env,
    );
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      name: "demo",
      monthlyBudgetUsd: 40,
      budgetEnforcement: "block",
    });

    const listed = await runCli(["project", "list", "--json"], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((p: { name: string }) => p.name)).toEqual(["demo"]);

    const table = await runCli(["project", "list"], env);
    expect(table.stdout).toMatch(/^NAME\s+ID\s+BUDGET/);
    expect(table.stdout).toContain("$40.00/month");
    expect(table.stdout).toContain("chunks of 512 tokens, 50 shared, duplicates from Jaccard 0.8");
  });

  it("walks a folder's links once each and skips what it cannot read, naming why", async () => {
    // A data directory of its own: the project it makes is no other test's business.
    const own = { FINEFLOW_DATA_DIR: await mkdtemp(join(tmpdir(), "fineflow-links-")) };
    const docs = join(own.FINEFLOW_DATA_DIR, "docs");
    await mkdir(join(docs, "guide"), { recursive: true });
    await writeFile(join(docs, "guide", "install.md"), "# Install\n\nRun the installer, then sign in.\n");
    await symlink("..", join(docs, "guide", "up")); // back to the folder given: followed, it never ended
    await symlink("guide", join(docs, "current")); // the same folder under a second name, listed first
    // A folder linked from one walked before it: its file is named by where it is, not by the link.
    await mkdir(join(docs, "team"));
    await writeFile(join(docs, "team", "notes.md"), "# Notes\n\nThe team meets on Mondays.\n");
    await symlink("../team", join(docs, "guide", "team"));
    await symlink("/dev/null", join(docs, "null.md")); // not a file: read, it was an empty document
    await symlink("/proc/self/mem", join(docs, "memory.txt")); // a file whose reading fails (Linux: EIO)

    const ingested = await runCli(
      ["ingest", docs, join(docs, "guide", "install.md"), "--project", "links", "--json"],
      own,
    );
    expect(ingested.stderr).not.toContain("error");
    expect(ingested.code).toBe(0);
    const report = JSON.parse(ingested.stdout);
    expect(report.documents).toEqual([
      expect.objectContaining({ path: join(docs, "guide", "install.md"), status: "ready" }),
      expect.objectContaining({ path: join(docs, "team", "notes.md"), status: "ready" }),
    ]);
    expect(report.skipped).toEqual([
      { path: join(docs, "current"), reason: "already taken, by another path" },
      { path: join(docs, "guide", "team"), reason: "already taken, by another path" },
      { path: join(docs, "guide", "up"), reason: "already taken, by another path" },
      { path: join(docs, "null.md"), reason: "not a regular file" },
      { path: join(docs, "memory.txt"), reason: "cannot be read — EIO: i/o error" },
    ]);
    const listed = await runCli(["documents", "list", "--project", "links", "--json"], own);
    expect(JSON.parse(listed.stdout).map((d: { name: string }) => d.name)).toEqual([
      "guide/install.md",
      "team/notes.md",
    ]);
    await rm(own.FINEFLOW_DATA_DIR, { recursive: true, force: true });
  });

  it("keeps two files of one name from different folders, named by their paths, and finishes", async () => {
    const own = { FINEFLOW_DATA_DIR: await mkdtemp(join(tmpdir(), "fineflow-clash-")) };
    const [a, x] = [join(own.FINEFLOW_DATA_DIR, "a"), join(own.FINEFLOW_DATA_DIR, "x")];
    await mkdir(a);
    await mkdir(x);
    await writeFile(join(a, "faq.md"), "# FAQ A\n\nThe answer in folder a is alpha.\n");
    await writeFile(join(x, "faq.md"), "# FAQ X\n\nThe answer in folder x is xray.\n");
    await writeFile(join(a, "same.md"), "# Same\n\nOne text in two folders.\n");
    await writeFile(join(x, "same.md"), "# Same\n\nOne text in two folders.\n");

    // Under one name the later replaced the earlier once processed, and the run waited for it for ever.
    const ingested = await runCli(["ingest", a, x, "--project", "clash"], own);
    expect(ingested.code).toBe(0);
    // Two files of one content are two documents, the later one's chunk a duplicate of the earlier's.
    expect(ingested.stdout).toContain("4 ready, 0 failed, 0 skipped; 4 chunks.");
    const listed = await runCli(["documents", "list", "--project", "clash", "--json"], own);
    expect(
      JSON.parse(listed.stdout)
        .map((d: { name: string }) => d.name)
        .sort(),
    ).toEqual([join(a, "faq.md"), join(a, "same.md"), join(x, "faq.md"), join(x, "same.md")]);
    const chunks = await runCli(["chunks", "--project", "clash", "--json"], own);
    const found = JSON.parse(chunks.stdout).chunks as { text: string; isDuplicate: boolean }[];
    expect(found.map((c) => c.text)).toEqual(
      expect.arrayContaining([expect.stringContaining("alpha"), expect.stringContaining("xray")]),
    );
    expect(
      found
        .filter((c) => c.text.includes("One text"))
        .map((c) => c.isDuplicate)
        .sort(),
    ).toEqual([false, true]);
    await rm(own.FINEFLOW_DATA_DIR, { recursive: true, force: true });
  });

  it("refuses a name two documents share, a ready one beside its failed new version, and takes the id", async () => {
    const own = { FINEFLOW_DATA_DIR: await mkdtemp(join(tmpdir(), "fineflow-twins-")) };
    const file = join(own.FINEFLOW_DATA_DIR, "two.md");
    await writeFile(file, "# Two\n\nThe ready version, whose chunks must stay.\n");
    const ingest = async () =>
      JSON.parse((await runCli(["ingest", file, "--project", "twins", "--json"], own)).stdout).documents[0]
        .documentId as string;
    const ready = await ingest();
    // The new version fails (it is empty), so it replaces nothing: two documents are named two.md.
    await writeFile(file, "");
    const failed = await ingest();
    // Either could be meant: the first one found was deleted, the ready one with its chunks. (`chunks
    // --document` finds documents the same way.)
    const refused = await runCli(["documents", "delete", "two.md", "--project", "twins"], own);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'error: 2 documents in project "twins" are named "two.md": give the id of the one you mean ' +
        "(see `fineflow documents list --project twins`).\n",
    );

    const deleted = await runCli(["documents", "delete", failed, "--project", "twins"], own);
    expect(deleted.stdout).toBe(`Deleted document ${failed}.\n`);
    const listed = await runCli(["documents", "list", "--project", "twins", "--json"], own);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ id: ready, name: "two.md", status: "ready" }]);
    await rm(own.FINEFLOW_DATA_DIR, { recursive: true, force: true });
  });

  it("ingests what it can, skips a file too large to send, and fails naming the paths given that are not there", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fineflow-missing-"));
    const own = { FINEFLOW_DATA_DIR: dir, FINEFLOW_MAX_DOCUMENT_MB: "1" };
    const file = join(dir, "notes.md");
    await writeFile(file, "# Notes\n\nThe team meets on Mondays.\n");
    // Over four times the document limit: refused before it is read, which only a smaller file can fix.
    const huge = join(dir, "huge.txt");
    await writeFile(huge, "Words and more words. ".repeat(230_000));
    const missing = join(dir, "nots.md");
    const run = await runCli(["ingest", file, huge, missing, "--project", "typo", "--json"], own);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: Not found: ${missing}\n`);
    expect(JSON.parse(run.stdout)).toMatchObject({
      documents: [{ path: file, status: "ready" }],
      skipped: [
        { path: missing, reason: "not found" },
        {
          path: huge,
          reason:
            "The upload is over 4 MB, and a file may be at most 1 MB (FINEFLOW_MAX_DOCUMENT_MB): send fewer or smaller files per request.",
        },
      ],
    });
    await rm(dir, { recursive: true, force: true });
  });

  it("reports errors on stderr, one line, with a non-zero exit", async () => {
    const duplicate = await runCli(["project", "create", "demo"], env);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stdout).toBe("");
    expect(duplicate.stderr).toBe('error: You already have a project named "demo".\n');

    const budget = await runCli(["project", "create", "other", "--budget", "lots"], env);
    expect(budget.code).not.toBe(0);
    expect(budget.stderr).toContain("--budget");

    const enforce = await runCli(["project", "create", "other", "--enforce", "maybe"], env);
    expect(enforce.code).not.toBe(0);
    expect(enforce.stderr).toMatch(/--enforce.*warn, block/s);

    const config = await runCli(["project", "list"], { ...env, PORT: "eighty" });
    expect(config.code).toBe(1);
    expect(config.stderr).toMatch(/^error: Invalid configuration — PORT: /);

    const worker = await runCli(["worker"], env);
    expect(worker.code).toBe(1);
    expect(worker.stderr).toContain("needs DATABASE_URL");

    const listed = await runCli(["project", "list", "--json"], env);
    expect(JSON.parse(listed.stdout).map((p: { name: string }) => p.name)).toEqual(["demo"]);
  });

  it("ingests a folder, skipping what it cannot read, and lists the chunks as JSON", async () => {
    const docs = join(dataDir, "docs");
    await mkdir(join(docs, "nested"), { recursive: true });
    await writeFile(
      join(docs, "guide.md"),
      "# Guide\n\n## Install\n\nRun the installer, then sign in with your account.\n",
    );
    await writeFile(join(docs, "nested", "faq.txt"), "How do refunds work? Refunds take five working days.");
    await writeFile(join(docs, "logo.png"), "not a document");
    await writeFile(join(docs, "empty.md"), "");

    // The rest are in, and reported; the empty file makes the command fail, as a script should know.
    const ingested = await runCli(["ingest", docs, "--project", "demo", "--json"], env);
    expect(ingested.code).toBe(1);
    expect(ingested.stderr).toContain("error: 1 document failed: see the report\n");
    const report = JSON.parse(ingested.stdout);
    expect(report.skipped).toEqual([{ path: join(docs, "logo.png"), reason: "unsupported file type" }]);
    const byFile = Object.fromEntries(
      report.documents.map((d: { path: string }) => [d.path.slice(docs.length + 1), d]),
    );
    expect(byFile["guide.md"]).toMatchObject({ outcome: "queued", status: "ready", error: null });
    expect(byFile["nested/faq.txt"]).toMatchObject({ name: "nested/faq.txt", status: "ready" });
    expect(byFile["empty.md"]).toMatchObject({ status: "failed", error: "The file is empty." });
    // Named by their path under the folder given, so two files of one name in different folders are told
    // apart; a file given by itself is named as it is.
    const named = await runCli(["documents", "list", "--project", "demo", "--json"], env);
    expect(
      JSON.parse(named.stdout)
        .map((d: { name: string }) => d.name)
        .sort(),
    ).toEqual(["empty.md", "guide.md", "nested/faq.txt"]);

    const again = await runCli(["ingest", join(docs, "guide.md"), "--project", "demo", "--json"], env);
    expect(JSON.parse(again.stdout).documents[0]).toMatchObject({ outcome: "unchanged", status: "ready" });
    const tableAgain = await runCli(["ingest", join(docs, "guide.md"), "--project", "demo"], env);
    expect(tableAgain.stdout).toMatch(/guide\.md +ready +\d+ +unchanged since an earlier upload\n/);

    const listed = await runCli(["chunks", "--project", "demo", "--json"], env);
    expect(listed.code).toBe(0);
    const { total, chunks } = JSON.parse(listed.stdout);
    expect(total).toBe(byFile["guide.md"].chunkCount + byFile["nested/faq.txt"].chunkCount);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({
        tokenCount: expect.any(Number),
        qualityScore: expect.any(Number),
        isDuplicate: false,
        injection: { flagged: false, score: expect.any(Number), reasons: [] },
      });
    }
    expect(chunks.map((c: { headingPath: string[] }) => c.headingPath.join(" > "))).toContain(
      "Guide > Install",
    );

    // The table says which chunks of how many it shows, and a page past the end says where the chunks are.
    const second = await runCli(["chunks", "--project", "demo", "--limit", "1", "--offset", "1"], env);
    expect(second.stdout).toMatch(new RegExp(`\nShowing 2–2 of ${total} chunks\\.\n$`));
    const beyond = await runCli(["chunks", "--project", "demo", "--offset", "1000"], env);
    expect(beyond.stdout).toBe(`No chunks from --offset 1000: ${total} chunks in all.\n`);

    // Documents are named as `documents list` shows them, in the chunk table too.
    const faqId = byFile["nested/faq.txt"].documentId;
    const faq = await runCli(["chunks", "--project", "demo", "--document", "nested/faq.txt", "--json"], env);
    expect(JSON.parse(faq.stdout).total).toBe(byFile["nested/faq.txt"].chunkCount);
    expect(new Set(JSON.parse(faq.stdout).chunks.map((c: { documentId: string }) => c.documentId))).toEqual(
      new Set([faqId]),
    );
    const table = await runCli(["chunks", "--project", "demo", "--document", faqId], env);
    expect(table.stdout).toMatch(
      // The chunk's text, cut to 50 characters.
      /^nested\/faq\.txt #1 .* How do refunds work\? Refunds take five working \.\.\.$/m,
    );
    const unknown = await runCli(["chunks", "--project", "demo", "--document", "faq.txt"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'No document "faq.txt" in project "demo": see `fineflow documents list --project demo`.',
    );
    // The failed one goes by name (the chunks of the others make the dataset below).
    const emptyId = byFile["empty.md"].documentId;
    const deleted = await runCli(["documents", "delete", "empty.md", "--project", "demo"], env);
    expect(deleted.stdout).toBe(`Deleted document empty.md (${emptyId}).\n`);
    const left = await runCli(["documents", "list", "--project", "demo", "--json"], env);
    expect(
      JSON.parse(left.stdout)
        .map((d: { name: string }) => d.name)
        .sort(),
    ).toEqual(["guide.md", "nested/faq.txt"]);
  });

  it("creates the project a first ingest names, and nothing when there is no file to put in it", async () => {
    const docs = join(dataDir, "first-docs");
    await mkdir(docs, { recursive: true });
    await writeFile(join(docs, "notes.md"), "# Notes\n\nThe first document of a new project.\n");

    const nothing = await runCli(["ingest", join(docs, "missing"), "--project", "fresh"], env);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toBe(`error: Not found: ${join(docs, "missing")}\n`);
    const before = await runCli(["project", "list", "--json"], env);
    expect(JSON.parse(before.stdout).map((p: { name: string }) => p.name)).not.toContain("fresh");

    const first = await runCli(["ingest", docs, "--project", "fresh", "--json"], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('Created project "fresh" with the default settings.');
    expect(JSON.parse(first.stdout)).toMatchObject({
      projectCreated: true,
      documents: [{ status: "ready", chunkCount: 1 }],
    });
    const again = await runCli(["ingest", docs, "--project", "fresh", "--json"], env);
    expect(again.stderr).not.toContain("Created project");
    expect(JSON.parse(again.stdout)).toMatchObject({
      projectCreated: false,
      documents: [{ outcome: "unchanged" }],
    });
    const listed = await runCli(["chunks", "--project", "fresh", "--json"], env);
    expect(JSON.parse(listed.stdout).total).toBe(1);

    await mkdir(join(docs, "deeper"));
    await writeFile(join(docs, "deeper", "alone.md"), "# Alone\n\nGiven by its own path.\n");
    await runCli(["ingest", join(docs, "deeper", "alone.md"), "--project", "fresh"], env);
    const documents = await runCli(["documents", "list", "--project", "fresh", "--json"], env);
    expect(JSON.parse(documents.stdout).map((d: { name: string }) => d.name)).toEqual([
      "notes.md",
      "alone.md",
    ]);

    // An id is never taken for a new project's name.
    const id = "0b5e5a36-3c0c-4b7e-9d8e-2f1f6f3f9a11";
    const byId = await runCli(["ingest", docs, "--project", id], env);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toContain(`No project named "${id}"`);
    const after = await runCli(["project", "list", "--json"], env);
    expect(
      JSON.parse(after.stdout)
        .map((p: { name: string }) => p.name)
        .sort(),
    ).toEqual(["demo", "fresh"]);
  });

  it("generates a dataset offline with no key, printing how many pairs it made", async () => {
    const generated = await runCli(["generate", "--project", "demo", "--dataset", "d1", "--mode", "qa"], env);
    expect(generated.stderr).not.toContain("error");
    expect(generated.code).toBe(0);
    expect(generated.stdout).toMatch(
      /Dataset "d1" is ready: [1-9]\d* pairs made by the extractive generator from 2 chunks/,
    );

    const again = await runCli(["generate", "--project", "demo", "--dataset", "d1", "--json"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Dataset "d1" already exists and is complete.');
    const listed = await runCli(["datasets", "list", "--project", "demo", "--json"], env);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { name: "d1", status: "ready", mode: "qa", format: "openai" },
    ]);
    // Datasets and documents go by name, as everywhere else.
    const cancel = await runCli(["datasets", "cancel", "d1"], env);
    expect(cancel.stderr).toBe('error: Dataset "d1" is not generating (it is ready).\n');
    const one = await runCli(
      ["generate", "--project", "demo", "--dataset", "faq", "--documents", "nested/faq.txt", "--json"],
      env,
    );
    expect(JSON.parse(one.stdout)).toMatchObject({ status: "ready", progress: { totalChunks: 1 } });

    const bad = await runCli(
      ["generate", "--project", "demo", "--dataset", "d2", "--pairs-per-chunk", "11"],
      env,
    );
    expect(bad.code).toBe(1);
    // Refused by the flag, in the API's range, before anything is sent.
    expect(bad.stderr).toContain(
      "option '--pairs-per-chunk <n>' argument '11' is invalid. must be a whole number from 1 to 10.",
    );
  });

  it("validates and exports the dataset", async () => {
    // Two chunks make fewer than the 10 pairs a fine-tuning job needs: validation says so and exits 1.
    const verdict = await runCli(["validate", "--dataset", "d1"], env);
    expect(verdict.code).toBe(1);
    expect(verdict.stdout).toMatch(/Dataset "d1" is NOT valid for gpt-4o-mini-2024-07-18 \(o200k_base\)/);
    expect(verdict.stdout).toMatch(/Errors:\n {2}- .*10/);

    const out = join(dataDir, "d1.jsonl");
    const exported = await runCli(
      ["export", "--dataset", "d1", "--format", "sharegpt", "--out", out, "--all"],
      env,
    );
    expect(exported.code).toBe(0);
    const lines = (await readFile(out, "utf8")).split("\n").filter(Boolean);
    expect(exported.stdout).toBe(`Wrote ${counted(lines.length, "example")} to ${out}.\n`);
    expect(JSON.parse(lines[0] ?? "{}").conversations.map((m: { from: string }) => m.from)).toEqual([
      "human",
      "gpt",
    ]);
  });

  it("export --split: a share the API refuses is named by its flag, and no file is written", async () => {
    const out = join(dataDir, "split.jsonl");
    const refused = await runCli(
      ["export", "--dataset", "d1", "--format", "openai", "--out", out, "--all", "--split", "1"],
      env,
    );
    expect(refused.stderr).toBe("error: --split: must be more than 0 and less than 1, e.g. 0.1\n");
    expect(refused.code).toBe(1);
    expect(existsSync(join(dataDir, "split.train.jsonl"))).toBe(false);
    // 0 holds nothing out: the one file, as without a split (it asked the API for a split of 0, refused).
    const none = await runCli(
      ["export", "--dataset", "d1", "--format", "openai", "--out", out, "--all", "--split", "0"],
      env,
    );
    expect(none.stderr).toBe("");
    expect(none.stdout).toMatch(/^Wrote \d+ examples? to \S+\/split\.jsonl\.\n$/);
  });

  it("reviews pairs from the command line: list, edit, add", async () => {
    const page = JSON.parse((await runCli(["pairs", "list", "--dataset", "d1", "--json"], env)).stdout);
    const first = page.pairs[0];
    const edit = [
      "pairs",
      "edit",
      first.id,
      "--user",
      "How do I install?",
      "--assistant",
      "Run the installer, then sign in.",
    ];
    expect((await runCli(edit, env)).code).toBe(0);
    const shown = JSON.parse((await runCli(["pairs", "show", first.id, "--json"], env)).stdout);
    expect(shown.messages[1].content).toBe("Run the installer, then sign in.");
    expect(shown.sourceChunkId).toBe(first.sourceChunkId);
    const add = [
      "pairs",
      "add",
      "--dataset",
      "d1",
      "--user",
      "Who signs in?",
      "--assistant",
      "Your account.",
    ];
    expect((await runCli(add, env)).code).toBe(0);
    const after = JSON.parse((await runCli(["pairs", "list", "--dataset", "d1", "--json"], env)).stdout);
    expect(after.total).toBe(page.total + 1);
  });

  it("documents every command with --help", async () => {
    const help = await runCli(["--help"], env);
    expect(help.code).toBe(0);
    const commands = [
      "serve",
      "worker",
      "project",
      "user",
      "token",
      "ingest",
      "documents",
      "chunks",
      "generate",
    ];
    for (const command of [...commands, "datasets", "validate", "export", "import", "bundle", "pairs"]) {
      expect(help.stdout).toContain(command);
    }
    const projectHelp = await runCli(["project", "create", "--help"], env);
    expect(projectHelp.stdout).toContain("--budget <usd>");
  });

  it("starts with the README's `npm start`: the web app and API on the embedded database, no keys", async () => {
    const fresh = await mkdtemp(join(tmpdir(), "fineflow-start-"));
    const server = await startServer({ FINEFLOW_DATA_DIR: fresh }, "npm");
    try {
      expect(await (await fetch(`${server.url}/api/health`)).json()).toMatchObject({
        status: "ok",
        database: "pglite",
      });
      expect(await (await fetch(server.url)).text()).toContain('<div id="root">');
      // Which database it opened, and where.
      expect(server.output()).toContain(`(database: embedded, in ${fresh})`);
    } finally {
      process.kill(-(server.child.pid ?? 0), "SIGTERM"); // npm's shell and the server with it
      await new Promise((resolve) => server.child.once("exit", resolve));
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it("runs as a program through its first line, which any Unix's env can read", async () => {
    // Linux hands env everything after it as one word: a second (a Node flag) needs GNU's `env -S`, which
    // BusyBox's (Alpine's) refuses, and there the command would not start.
    const [firstLine] = (await readFile(CLI, "utf8")).split("\n", 1);
    expect(firstLine).toMatch(/^#!\/usr\/bin\/env \S+$/);
    const run = await promisify(execFile)(CLI, ["--version"], { env: cliEnv(env) });
    expect(run.stdout).toBe(`${VERSION}\n`);
  });

  it("serves the API, signs the owner in by one-time link, and routes the CLI through the running server", async () => {
    const server = await startServer(env);
    try {
      const health = await fetch(`${server.url}/api/health`);
      expect(await health.json()).toMatchObject({ status: "ok", database: "pglite" });
      expect((await fetch(`${server.url}/api/projects`)).status).toBe(401);

      const link = await fetch(server.loginLink ?? "", { redirect: "manual" });
      expect(link.status).toBe(302);
      const cookie = (link.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      const me = await fetch(`${server.url}/api/auth/me`, { headers: { cookie } });
      expect((await me.json()).user).toMatchObject({ isLocalOwner: true });
      const used = await fetch(server.loginLink ?? "", { redirect: "manual" });
      expect(used.headers.get("location")).toBe("/?signin=expired");

      // PGlite is single-process: while the server holds it, the CLI goes through the server's API …
      const created = await runCli(["project", "create", "through-server", "--json"], env);
      expect(created.code).toBe(0);
      const projects = await fetch(`${server.url}/api/projects`, { headers: { cookie } });
      expect((await projects.json()).projects.map((p: { name: string }) => p.name)).toContain(
        "through-server",
      );

      // … whose worker processes what the CLI ingests …
      await writeFile(join(dataDir, "served.md"), "# Served\n\nProcessed by the server's own worker.\n");
      const served = await runCli(
        ["ingest", join(dataDir, "served.md"), "--project", "through-server", "--json"],
        env,
      );
      expect(JSON.parse(served.stdout).documents[0]).toMatchObject({ status: "ready", chunkCount: 1 });

      // … and commands that need the database itself stop with a message that says why.
      const direct = await runCli(["user", "create", "--email", "x@example.com"], env, "long password\n");
      expect(direct.code).toBe(1);
      expect(direct.stderr).toMatch(/in use by `fineflow serve` \(pid \d+\)/);
    } finally {
      server.child.kill("SIGTERM");
      await new Promise((resolve) => server.child.once("exit", resolve));
    }
    expect(server.child.exitCode).toBe(0);
    expect(existsSync(join(dataDir, "fineflow.lock"))).toBe(false);
  });
});
