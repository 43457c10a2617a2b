import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import type { Block } from "./blocks.js";
import { type ChunkDraft, chunkBlocks, DEFAULT_CHUNK_OPTIONS } from "./chunk-blocks.js";

const heading = (level: number, text: string, page?: number): Block => ({
  kind: "heading",
  level,
  text,
  page,
});
const paragraph = (text: string, page?: number): Block => ({ kind: "paragraph", text, page });

/** Distinct, well-formed sentences of about 20 tokens each, numbered so tests can follow them. */
function sentences(count: number, topic = "installer", from = 0): string[] {
  return Array.from(
    { length: count },
    (_, i) =>
      `Sentence ${from + i} explains how the ${topic} prepares step ${from + i} before anything else runs.`,
  );
}

/** The chunk text after its heading lines. */
function body(chunk: ChunkDraft): string {
  return chunk.text.replace(/^(?:#{1,6} .*\n)+\n/, "");
}

function fencedCode(lines: number): string {
  const code = Array.from(
    { length: lines },
    (_, i) => `  const value${i} = compute(${i}, "argument number ${i}");`,
  );
  return ["```ts", ...code, "```"].join("\n");
}

function table(rows: number): string {
  const body = Array.from({ length: rows }, (_, i) => `| row ${i} | value ${i * 7} | note about row ${i} |`);
  return ["| Name | Value | Note |", "| --- | --- | --- |", ...body].join("\n");
}

describe("chunkBlocks", () => {
  it("returns no chunks for empty or blank input", () => {
    expect(chunkBlocks([])).toEqual([]);
    expect(chunkBlocks([paragraph("   \n\t "), { kind: "code", text: "\n\n" }])).toEqual([]);
    expect(chunkBlocks([heading(1, "Only a title"), heading(2, "And a subtitle")])).toEqual([]);
  });

  it("keeps the heading path of where each chunk's content starts, and opens with those headings", () => {
    const chunks = chunkBlocks([
      heading(1, "Guide"),
      paragraph("The guide covers everything you need."),
      heading(2, "Install"),
      heading(3, "Linux"),
      paragraph(sentences(40).join(" ")),
    ]);
    expect(chunks[0]?.headingPath).toEqual(["Guide"]);
    expect(chunks[0]?.text.startsWith("# Guide\n\nThe guide covers everything you need.")).toBe(true);
    const later = chunks.slice(1);
    expect(later.length).toBeGreaterThan(0);
    for (const chunk of later) {
      expect(chunk.headingPath).toEqual(["Guide", "Install", "Linux"]);
      expect(chunk.text.startsWith("# Guide\n## Install\n### Linux\n\nSentence ")).toBe(true);
    }
  });

  it("renders headings met inside a chunk in place, at their level", () => {
    const [chunk] = chunkBlocks([
      heading(1, "Guide"),
      paragraph("Intro text for the guide."),
      heading(2, "Install"),
      paragraph("Run the installer."),
    ]);
    expect(chunk?.text).toBe("# Guide\n\nIntro text for the guide.\n\n## Install\n\nRun the installer.");
  });

  it("drops the top of a long heading path from the text so headings leave room for content", () => {
    const levels = ["Reference", "Command line interface", "Subcommands", "Export", "Formats", "JSON Lines"];
    const blocks = [...levels.map((text, i) => heading(i + 1, text)), paragraph(sentences(20).join(" "))];
    const chunks = chunkBlocks(blocks, { targetTokens: 64, overlapTokens: 0 });
    for (const chunk of chunks) {
      expect(chunk.headingPath).toEqual(levels);
      const headingLines = chunk.text.slice(0, chunk.text.indexOf("\n\n"));
      expect(headingLines.endsWith("###### JSON Lines")).toBe(true);
      expect(countTokens(headingLines)).toBeLessThanOrEqual(16);
    }
  });

  it("never lets a chunk span two top-level sections, even when both would fit", () => {
    const chunks = chunkBlocks([
      heading(1, "Alpha"),
      paragraph("Alpha is short."),
      heading(1, "Beta"),
      paragraph("Beta is short too."),
      heading(1, "Gamma"),
      paragraph(sentences(60).join(" ")),
    ]);
    expect(chunks.slice(0, 2).map((c) => c.text)).toEqual([
      "# Alpha\n\nAlpha is short.",
      "# Beta\n\nBeta is short too.",
    ]);
    for (const chunk of chunks) {
      expect(chunk.text.match(/^# /gm)).toHaveLength(1);
      expect(chunk.headingPath).toHaveLength(1);
    }
  });

  it("keeps the words of a heading with nothing under it, opening the next section's chunks, not its path", () => {
    // A document's title before its first section (a DOCX Title before a Heading 1: both level 1), and a
    // subsection left empty: before, their headings were in no chunk at all.
    const chunks = chunkBlocks([
      heading(1, "Product Handbook"),
      heading(1, "Overview"),
      paragraph("Welcome to the handbook."),
      heading(1, "Install"),
      heading(2, "Linux"),
      heading(2, "macOS"),
      paragraph("Run the installer."),
      heading(2, "Windows"),
      paragraph("Run setup.exe."),
    ]);
    expect(chunks.map((c) => [c.text, c.headingPath.join(" > ")])).toEqual([
      ["# Product Handbook\n# Overview\n\nWelcome to the handbook.", "Overview"],
      [
        "# Install\n## Linux\n## macOS\n\nRun the installer.\n\n## Windows\n\nRun setup.exe.",
        "Install > macOS",
      ],
    ]);
    for (const chunk of chunks) expect(chunk.tokenCount).toBe(countTokens(chunk.text));
  });

  it("keeps every heading closed with nothing under it, not only the last, as a title page's subtitle and byline", () => {
    // A manual's title, then a deeper subtitle, then its first chapter (ninja's manual); a spec's title page
    // with its publisher and author as headings. Before, only the last of them was kept.
    const chunks = chunkBlocks([
      heading(1, "The Ninja build system"),
      heading(3, "v1.11.1, Aug 2022"),
      heading(1, "Introduction"),
      paragraph("Ninja is yet another build system."),
      heading(1, "Shared MIME-info Database"),
      heading(2, "X Desktop Group"),
      heading(2, "Thomas Leonard"),
      heading(4, "tal197 at users.sf.net"),
      heading(2, "1. Introduction"),
      paragraph("Many programs need to guess the type of a file."),
    ]);
    expect(chunks.map((c) => [c.text, c.headingPath.join(" > ")])).toEqual([
      [
        "# The Ninja build system\n### v1.11.1, Aug 2022\n# Introduction\n\nNinja is yet another build system.",
        "Introduction",
      ],
      [
        "# Shared MIME-info Database\n## X Desktop Group\n## Thomas Leonard\n#### tal197 at users.sf.net\n" +
          "## 1. Introduction\n\nMany programs need to guess the type of a file.",
        "Shared MIME-info Database > 1. Introduction",
      ],
    ]);
    for (const chunk of chunks) expect(chunk.tokenCount).toBe(countTokens(chunk.text));
  });

  it("starts an untitled section (a JSON record without a title) under no heading, in a chunk of its own", () => {
    const chunks = chunkBlocks([
      heading(1, "Kubernetes Networking"),
      paragraph("Pods talk to each other over a flat network."),
      heading(1, ""),
      paragraph("Sourdough needs a starter fed the day before."),
      heading(1, "  "),
      paragraph("Roman aqueducts carried water by gravity alone."),
      // A record with a title and no text lends its title to no other record.
      heading(1, "Refund policy"),
      heading(1, ""),
      paragraph("Orders ship within two business days."),
    ]);
    expect(chunks.map((c) => [c.headingPath, c.text])).toEqual([
      [["Kubernetes Networking"], "# Kubernetes Networking\n\nPods talk to each other over a flat network."],
      [[], "Sourdough needs a starter fed the day before."],
      [[], "Roman aqueducts carried water by gravity alone."],
      [[], "Orders ship within two business days."],
    ]);
  });

  it("treats the top-most heading level present as the top level", () => {
    const chunks = chunkBlocks([
      heading(2, "First"),
      paragraph("One."),
      heading(3, "Detail"),
      paragraph("Two."),
      heading(2, "Second"),
      paragraph("Three."),
    ]);
    expect(chunks.map((c) => c.headingPath)).toEqual([["First"], ["Second"]]);
    expect(chunks[0]?.text).toBe("## First\n\nOne.\n\n### Detail\n\nTwo.");
  });

  it("packs small subsections of one top-level section together", () => {
    const chunks = chunkBlocks([
      heading(1, "Setup"),
      heading(2, "Linux"),
      paragraph("Use the package manager."),
      heading(2, "macOS"),
      paragraph("Use Homebrew."),
      heading(2, "Windows"),
      paragraph("Use the installer."),
    ]);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.headingPath).toEqual(["Setup", "Linux"]);
    expect(chunks[0]?.text).toBe(
      "# Setup\n## Linux\n\nUse the package manager.\n\n## macOS\n\nUse Homebrew.\n\n## Windows\n\nUse the installer.",
    );
  });

  it("starts a new chunk at a subsection that does not fit in a half-full chunk", () => {
    const chunks = chunkBlocks(
      [
        heading(1, "Setup"),
        paragraph(sentences(16, "first").join(" ")),
        heading(2, "Next"),
        paragraph(sentences(16, "second").join(" ")),
      ],
      { targetTokens: 400, overlapTokens: 0 },
    );
    expect(chunks.map((c) => c.headingPath)).toEqual([["Setup"], ["Setup", "Next"]]);
    expect(chunks[0]?.text).not.toContain("## Next");
  });

  it("keeps a code block whole when it fits, moving it to the next chunk rather than cutting it", () => {
    const code = fencedCode(12);
    expect(countTokens(code)).toBeLessThan(300);
    const chunks = chunkBlocks(
      [heading(1, "API"), paragraph(sentences(12).join(" ")), { kind: "code", text: code }],
      { targetTokens: 300, overlapTokens: 0 },
    );
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.filter((c) => c.text.includes(code))).toHaveLength(1);
    expect(chunks.filter((c) => c.text.includes("```"))).toHaveLength(1);
  });

  it("keeps a table whole when it fits", () => {
    const rows = table(10);
    const chunks = chunkBlocks(
      [heading(1, "Data"), paragraph(sentences(12).join(" ")), { kind: "table", text: rows }],
      { targetTokens: 300, overlapTokens: 0 },
    );
    expect(chunks.filter((c) => c.text.includes(rows))).toHaveLength(1);
  });

  it("splits a code block too big for a chunk between lines, re-fencing every part", () => {
    const code = fencedCode(80);
    const lines = code.split("\n").slice(1, -1);
    const chunks = chunkBlocks([heading(1, "Big"), { kind: "code", text: code }], { targetTokens: 200 });
    expect(chunks.length).toBeGreaterThan(3);
    const seen: string[] = [];
    for (const chunk of chunks) {
      const part = body(chunk).split("\n");
      expect(part[0]).toBe("```ts");
      expect(part.at(-1)).toBe("```");
      seen.push(...part.slice(1, -1));
      expect(chunk.tokenCount).toBeLessThanOrEqual(200);
    }
    expect(seen).toEqual(lines);
  });

  it("splits a table too big for a chunk between rows, repeating the header row", () => {
    const rows = table(60).split("\n");
    const chunks = chunkBlocks([heading(1, "Big table"), { kind: "table", text: rows.join("\n") }], {
      targetTokens: 150,
    });
    expect(chunks.length).toBeGreaterThan(2);
    const seen: string[] = [];
    for (const chunk of chunks) {
      const part = body(chunk).split("\n");
      expect(part.slice(0, 2)).toEqual(rows.slice(0, 2));
      seen.push(...part.slice(2));
    }
    expect(seen).toEqual(rows.slice(2));
  });

  it("repeats a wide table's header in every part while it leaves room for rows", () => {
    // Forty columns: the header and its delimiter take a third of a chunk, each row about as much.
    const columns = Array.from({ length: 40 }, (_, i) => i);
    const rows = [
      `| ${columns.map((i) => `col${i}`).join(" | ")} |`,
      `|${columns.map(() => "---|").join("")}`,
      ...Array.from({ length: 30 }, (_, r) => `| ${columns.map((i) => `r${r}c${i} value`).join(" | ")} |`),
    ];
    const chunks = chunkBlocks([heading(1, "Wide"), { kind: "table", text: rows.join("\n") }]);
    expect(chunks.length).toBeGreaterThan(5);
    const seen: string[] = [];
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBeLessThanOrEqual(512);
      const part = body(chunk).split("\n");
      expect(part.slice(0, 2)).toEqual(rows.slice(0, 2));
      seen.push(...part.slice(2));
    }
    expect(seen).toEqual(rows.slice(2));
  });

  it("splits an over-long paragraph at sentence boundaries, every chunk under the limit", () => {
    const all = sentences(200);
    const chunks = chunkBlocks([heading(1, "Long"), paragraph(all.join(" "))], {
      targetTokens: 256,
      overlapTokens: 0,
    });
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBeLessThanOrEqual(256);
      expect(body(chunk)).toMatch(/^Sentence \d+ .*\.$/s);
    }
    expect(chunks.map((c) => body(c)).join(" ")).toBe(all.join(" "));
  });

  it("cuts a sentence bigger than a chunk by tokens, at word starts, losing nothing", () => {
    const words = Array.from({ length: 900 }, (_, i) => `word${i}`);
    const chunks = chunkBlocks([paragraph(words.join(" "))], { targetTokens: 128, overlapTokens: 0 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(128);
    expect(chunks.flatMap((c) => c.text.split(" "))).toEqual(words);
  });

  it("splits a long list between items", () => {
    const items = Array.from(
      { length: 80 },
      (_, i) => `- Item ${i} describes one option of the command line.`,
    );
    const chunks = chunkBlocks([heading(1, "Options"), { kind: "list", text: items.join("\n") }], {
      targetTokens: 120,
      overlapTokens: 0,
    });
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.flatMap((c) => body(c).split("\n"))).toEqual(items);
  });

  it("keeps a list item whole where it fits, its code block fenced and never repeated as overlap", () => {
    // type-fest's README: each item a type, a line of text and an example. Before, the list was cut line by
    // line: a chunk ended on an opening fence, the next began inside the code, and code lines were repeated.
    const items = Array.from({ length: 4 }, (_, i) =>
      [
        `- \`Type${i}<T>\` - Description of type number ${i}.`,
        "",
        "  Example",
        "",
        fencedCode(12).replace(/^/gm, "  "),
      ].join("\n"),
    );
    const chunks = chunkBlocks([heading(1, "Types"), { kind: "list", text: items.join("\n") }], {
      targetTokens: 300,
      overlapTokens: 50,
    });
    expect(chunks.map(body)).toEqual(items);
    for (const chunk of chunks) expect(chunk.tokenCount).toBe(countTokens(chunk.text));
  });

  it("cuts a list item bigger than a chunk between its lines and code blocks, then its sentences", () => {
    const long = sentences(30, "item");
    const code = fencedCode(12).replace(/^/gm, "   ");
    const list = [`1. ${long.join(" ")}`, code, "2. Short item."].join("\n");
    const chunks = chunkBlocks([heading(1, "Options"), { kind: "list", text: list }], {
      targetTokens: 200,
      overlapTokens: 40,
    });
    const bodies = chunks.map(body);
    expect(bodies[0]).toMatch(/^1\. Sentence 0 .*\.$/s);
    // Each chunk starts and ends at a sentence's or a line's end, and its overlap is whole sentences.
    for (const text of bodies.slice(1)) expect(text).toMatch(/^(?:Sentence \d+ | {3}```ts)/);
    for (const text of bodies) expect(text).toMatch(/(?:\.|```|Short item\.)$/);
    expect(bodies.filter((text) => text.includes(code))).toHaveLength(1);
    for (const text of bodies) expect(text.split("```").length % 2).toBe(1);
    for (const sentence of long) expect(bodies.some((text) => text.includes(sentence))).toBe(true);
    for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(200);
  });

  it("repeats trailing sentences at the start of the next chunk of the same section", () => {
    const all = sentences(60);
    const chunks = chunkBlocks([heading(1, "Guide"), paragraph(all.join(" "))], {
      targetTokens: 200,
      overlapTokens: 50,
    });
    expect(chunks.length).toBeGreaterThan(3);
    for (let i = 1; i < chunks.length; i++) {
      const previous = body(chunks[i - 1] as ChunkDraft).split(/(?<=\.) /);
      const current = body(chunks[i] as ChunkDraft).split(/(?<=\.) /);
      const shared = current.filter((sentence) => previous.includes(sentence));
      expect(shared.length).toBeGreaterThan(0);
      expect(previous.slice(-shared.length)).toEqual(shared);
      expect(current.slice(0, shared.length)).toEqual(shared);
      expect(countTokens(shared.join(" "))).toBeLessThanOrEqual(50);
      const next = current[shared.length];
      expect(all.indexOf(next ?? "")).toBe(all.indexOf(previous.at(-1) ?? "") + 1);
    }
  });

  it("does not overlap across a top-level section boundary", () => {
    const chunks = chunkBlocks(
      [
        heading(1, "First"),
        paragraph(sentences(30, "first").join(" ")),
        heading(1, "Second"),
        paragraph(sentences(30, "second").join(" ")),
      ],
      { targetTokens: 200, overlapTokens: 50 },
    );
    const secondStart = chunks.findIndex((c) => c.headingPath[0] === "Second");
    expect(secondStart).toBeGreaterThan(0);
    expect(chunks[secondStart]?.text).not.toContain("first");
    expect(chunks[secondStart]?.text.startsWith("# Second\n\nSentence 0 explains how the second")).toBe(true);
  });

  it("cuts a line with no break to cut at into chunks under the target, even where characters take several tokens", () => {
    // Rare Chinese characters (two or three tokens each, in one pre-token: no space or punctuation), Han
    // Extension B beyond the Basic Multilingual Plane, and Hangul syllables.
    const lines = [
      Array.from({ length: 6000 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20000))).join(""),
      Array.from({ length: 1500 }, (_, i) => String.fromCodePoint(0x20000 + ((i * 7919) % 40000))).join(""),
      Array.from({ length: 3000 }, (_, i) => String.fromCodePoint(0xac00 + ((i * 7919) % 11000))).join(""),
    ];
    for (const line of lines) {
      const chunks = chunkBlocks([paragraph(line)], { targetTokens: 256, overlapTokens: 0 });
      expect(chunks.length).toBeGreaterThan(3);
      for (const chunk of chunks) {
        expect(chunk.tokenCount).toBeLessThanOrEqual(256);
        expect(chunk.tokenCount).toBe(countTokens(chunk.text));
      }
      expect(chunks.map((c) => c.text).join("")).toBe(line);
    }
  });

  it("repeats the end of a window of a sentence too big for a chunk at the start of the next", () => {
    const words = Array.from({ length: 900 }, (_, i) => `word${i}`);
    const hangul = Array.from({ length: 1500 }, (_, i) =>
      String.fromCodePoint(0xac00 + ((i * 7919) % 11000)),
    );
    for (const [text, glue] of [
      [words.join(" "), " "],
      [hangul.join(""), ""],
    ] as const) {
      const chunks = chunkBlocks([paragraph(text)], { targetTokens: 128, overlapTokens: 20 });
      expect(chunks.length).toBeGreaterThan(5);
      const rest: string[] = [];
      for (const [i, chunk] of chunks.entries()) {
        expect(chunk.tokenCount).toBeLessThanOrEqual(128);
        expect(chunk.tokenCount).toBe(countTokens(chunk.text));
        const previous = chunks[i - 1]?.text ?? "";
        // The longest start of this chunk that ends the one before: the overlap, at most 20 tokens.
        let shared = Math.min(previous.length, chunk.text.length);
        while (shared > 0 && !previous.endsWith(chunk.text.slice(0, shared))) shared--;
        if (i > 0) expect(countTokens(chunk.text.slice(0, shared))).toBeGreaterThanOrEqual(10);
        expect(countTokens(chunk.text.slice(0, shared))).toBeLessThanOrEqual(20);
        rest.push(chunk.text.slice(shared).trimStart());
      }
      expect(rest.join(glue)).toBe(text);
    }
  });

  it("does not overlap when overlapTokens is 0", () => {
    const all = sentences(60);
    const chunks = chunkBlocks([paragraph(all.join(" "))], { targetTokens: 200, overlapTokens: 0 });
    expect(chunks.map((c) => c.text).join(" ")).toBe(all.join(" "));
  });

  it("reports the page range of each chunk's content", () => {
    const chunks = chunkBlocks(
      [
        heading(1, "Report", 1),
        paragraph(sentences(10, "intro").join(" "), 1),
        paragraph(sentences(10, "middle").join(" "), 2),
        paragraph(sentences(10, "end").join(" "), 3),
        heading(1, "Appendix", 4),
        paragraph("A short appendix.", 4),
      ],
      { targetTokens: 350, overlapTokens: 0 },
    );
    expect(chunks.map((c) => [c.pageStart, c.pageEnd])).toEqual([
      [1, 2],
      [3, 3],
      [4, 4],
    ]);
    // A paragraph running on from page 5 to 6, whole in a chunk or split across two: each says both.
    const runOn = { kind: "paragraph", text: sentences(4, "run-on").join(" "), page: 5, pageEnd: 6 } as const;
    expect(chunkBlocks([runOn]).map((c) => [c.pageStart, c.pageEnd])).toEqual([[5, 6]]);
    const split = chunkBlocks([{ ...runOn, text: sentences(20, "long").join(" ") }], {
      targetTokens: 200,
      overlapTokens: 0,
    });
    expect(split.length).toBeGreaterThan(1);
    expect(split.map((c) => [c.pageStart, c.pageEnd])).toEqual(split.map(() => [5, 6]));
    const unpaged = chunkBlocks([paragraph("No pages here.")]);
    expect(unpaged[0]?.pageStart).toBeUndefined();
    expect(unpaged[0]?.pageEnd).toBeUndefined();
  });

  it("reports the exact o200k token count of every chunk's text", () => {
    const blocks: Block[] = [
      heading(1, "Mixed content"),
      paragraph(sentences(30).join(" ")),
      {
        kind: "list",
        text: "- first item;\n- second item: with a colon\n  continued line\n\n- third (item).",
      },
      { kind: "code", text: fencedCode(40) },
      { kind: "code", text: "```js\n/**\n * Docs.\n */\nfunction f() {\n  // note\n  return 1;\n}\n```" },
      { kind: "table", text: table(30) },
      heading(2, "Unicode"),
      paragraph("日本語のテキストです。次の文です！ Émoji 😀 follow, then “quotes” — and dashes… Done."),
      paragraph("A line ending in punctuation.\n/slashes/ start this one\n\n\nand blank lines before this."),
    ];
    for (const targetTokens of [32, 64, 150, 512]) {
      const chunks = chunkBlocks(blocks, { targetTokens, overlapTokens: Math.floor(targetTokens / 5) });
      for (const chunk of chunks) expect(chunk.tokenCount).toBe(countTokens(chunk.text));
    }
  });

  it("treats special-token lookalikes in documents as plain text", () => {
    const [chunk] = chunkBlocks([paragraph("Models end a text with <|endoftext|> in training data.")]);
    expect(chunk?.text).toContain("<|endoftext|>");
    expect(chunk?.tokenCount).toBe(countTokens(chunk?.text ?? "", { disallowedSpecial: new Set() }));
  });

  it("keeps chunks within targetTokens and numbers them in order", () => {
    const blocks: Block[] = [];
    for (let s = 0; s < 5; s++) {
      blocks.push(heading(1, `Section ${s}`), paragraph(sentences(50, `part ${s}`).join(" ")));
      blocks.push({ kind: "code", text: fencedCode(30) }, { kind: "table", text: table(20) });
    }
    const chunks = chunkBlocks(blocks);
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    for (const chunk of chunks)
      expect(chunk.tokenCount).toBeLessThanOrEqual(DEFAULT_CHUNK_OPTIONS.targetTokens);
    expect(chunkBlocks(blocks)).toEqual(chunks);
  });

  it("defaults to 512 target and 50 overlap tokens", () => {
    expect(DEFAULT_CHUNK_OPTIONS).toEqual({ targetTokens: 512, overlapTokens: 50 });
    const blocks = [paragraph(sentences(100).join(" "))];
    expect(chunkBlocks(blocks, {})).toEqual(chunkBlocks(blocks, { targetTokens: 512, overlapTokens: 50 }));
  });

  it("rejects invalid options with a RangeError naming the option", () => {
    const blocks = [paragraph("Text.")];
    for (const targetTokens of [31, 100.5, Number.NaN, -1]) {
      expect(() => chunkBlocks(blocks, { targetTokens })).toThrow(RangeError);
      expect(() => chunkBlocks(blocks, { targetTokens })).toThrow(/targetTokens/);
    }
    for (const overlapTokens of [-1, 256, 300, Number.NaN]) {
      expect(() => chunkBlocks(blocks, { targetTokens: 512, overlapTokens })).toThrow(RangeError);
      expect(() => chunkBlocks(blocks, { targetTokens: 512, overlapTokens })).toThrow(/overlapTokens/);
    }
    expect(() => chunkBlocks(blocks, { targetTokens: 32, overlapTokens: 15 })).not.toThrow();
  });
});
