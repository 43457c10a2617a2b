import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/run-cli.js";

let dir: string;
let env: Record<string, string>;
/** A folder of four documents, two of them with a control character in their names, and a broken link. */
let docs: string;
const deep = () => join(docs, "sub", "deep", "c.md");

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fineflow-cli-ingest-"));
  env = { FINEFLOW_DATA_DIR: dir };
  docs = join(dir, "c1");
  await mkdir(join(docs, "sub", "deep"), { recursive: true });
  await writeFile(join(docs, "a.md"), "# A\n\nThe first document, at the top.\n");
  await writeFile(deep(), "# C\n\nA document two folders down.\n");
  await writeFile(join(docs, "new\nline.md"), "# Newline\n\nA name with a line break in it.\n");
  await writeFile(join(docs, "tab\there.md"), "# Tab\n\nA name with a tab in it.\n");
  await symlink("missing.md", join(docs, "gone.md"));
  await mkdir(join(dir, "images"));
  await writeFile(join(dir, "images", "logo.png"), "not a document");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

// Each CLI call starts a process that opens the database: generous time, since CI machines are shared.
describe("fineflow ingest", { timeout: 120_000 }, () => {
  it("names a file by its path under a folder given beside it, in either order, and reports it once", async () => {
    const a = join(docs, "a.md");
    const first = await runCli(["ingest", deep(), a, a, docs, "--project", "p1", "--json"], env);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    // The names as they are, control characters and all: the JSON is for programs.
    expect(report.documents.map((d: { name: string }) => d.name)).toEqual([
      "sub/deep/c.md",
      "a.md",
      "new\nline.md",
      "tab\there.md",
    ]);
    // A path given again, or reached again through the folder, is no news.
    expect(report.skipped).toEqual([{ path: join(docs, "gone.md"), reason: "broken link" }]);
    // Off a terminal, the progress goes to stderr as plain lines, ending on the final count.
    expect(first.stderr).toContain("processed 4 of 4 documents (4 ready, 0 failed)\n");

    const reversed = await runCli(["ingest", docs, deep(), "--project", "p1"], env);
    expect(reversed.code).toBe(0);
    expect(reversed.stdout).toContain(`${deep()}: unchanged\n`);
    expect(reversed.stdout).toContain("4 ready, 0 failed, 1 skipped; 4 chunks.\n");
    const listed = await runCli(["documents", "list", "--project", "p1", "--json"], env);
    expect(
      JSON.parse(listed.stdout)
        .map((d: { name: string }) => d.name)
        .sort(),
    ).toEqual(["a.md", "new\nline.md", "sub/deep/c.md", "tab\there.md"]);
  });

  it("escapes control characters in names on the plain report, and prints progress on stderr", async () => {
    const run = await runCli(["ingest", docs, "--project", "p1"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${docs}/new\\nline.md: unchanged\n`);
    // Each document by the name other commands take: its path under the folder given.
    expect(run.stdout).toMatch(/^DOCUMENT +STATUS/m);
    expect(run.stdout).toMatch(/\nsub\/deep\/c\.md +ready +1 +unchanged since an earlier upload\n/);
    expect(run.stdout).toMatch(/\ntab\\there\.md +ready +1 +unchanged since an earlier upload\n/);
    expect(run.stdout).not.toMatch(/\t|new\nline/);
    expect(run.stdout).toContain(`skipped ${join(docs, "gone.md")}: broken link\n`);
    expect(run.stdout).not.toContain("processed");
    expect(run.stderr).toContain("processed 4 of 4 documents (4 ready, 0 failed)\n");
  });

  it("says a path is not there, or that there is nothing to ingest, and creates no project for it", async () => {
    const nope = join(dir, "nope/");
    const missing = await runCli(["ingest", nope, "--project", "newproj"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: Not found: ${nope}\n`);

    const nothing = await runCli(["ingest", join(dir, "images"), "--project", "newproj"], env);
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toBe("");
    expect(nothing.stdout).toBe(
      "No files to ingest.\n" +
        `skipped ${join(dir, "images", "logo.png")}: unsupported file type\n` +
        "0 ready, 0 failed, 1 skipped; 0 chunks.\n",
    );
    const projects = await runCli(["project", "list", "--json"], env);
    expect(JSON.parse(projects.stdout).map((p: { name: string }) => p.name)).toEqual(["p1"]);
  });

  it("ingests one of two files whose names are one name written two ways, and says why it skipped the other", async () => {
    const accents = join(dir, "accents");
    await mkdir(accents);
    const composed = join(accents, "caf\u00e9.md");
    const decomposed = join(accents, "cafe\u0301.md");
    await writeFile(composed, "# Composed\n\nThe name written as one character.\n");
    await writeFile(decomposed, "# Decomposed\n\nThe name written as e and an accent.\n");
    const run = await runCli(["ingest", accents, "--project", "accents", "--json"], env);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    // Before, both were sent as "café.md", and the one processed last replaced the other.
    expect(report.documents.map((d: { name: string; status: string }) => [d.name, d.status])).toEqual([
      ["caf\u00e9.md", "ready"],
    ]);
    const [kept] = [composed, decomposed].sort();
    const skipped = kept === composed ? decomposed : composed;
    expect(report.skipped).toEqual([
      { path: skipped, reason: `the same name as ${kept} in Unicode's composed form (NFC)` },
    ]);
  });

  it("documents list says which documents keep an older chunking, until they are ingested again", async () => {
    const updated = await runCli(
      ["project", "update", "p1", "--chunk-tokens", "256", "--chunk-overlap", "20"],
      env,
    );
    expect(updated.code).toBe(0);
    const listed = await runCli(["documents", "list", "--project", "p1"], env);
    expect(listed.stdout).toMatch(/^a\.md .* older: 512\/50\/0\.8 *\n/m);
    expect(listed.stdout).toContain(
      "4 documents are chunked as the project was when sent; it now makes chunks of 256 tokens, 20 shared, " +
        "duplicates from Jaccard 0.8. Ingest them again to chunk them anew.\n",
    );
    expect((await runCli(["ingest", docs, "--project", "p1"], env)).code).toBe(0);
    const after = await runCli(["documents", "list", "--project", "p1"], env);
    expect(after.stdout).not.toMatch(/older|chunked as the project was/);
  });
});
