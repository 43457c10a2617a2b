import { describe, expect, it } from "vitest";
import type { Block } from "../core/blocks.js";
import { layoutBlocks, type PdfLine, type PdfTextPiece, pageLines } from "./pdf-layout.js";

const LEFT = 50;
const RIGHT_MARGIN = 550;

interface LineSpec {
  size?: number;
  x?: number;
  /** Points below the previous line's baseline; 14 unless set. */
  gap?: number;
  /** Runs to the right margin (a line its paragraph wraps from). */
  full?: boolean;
  mono?: boolean;
}

type Spec = string | [string, LineSpec];

/** A page's lines from the top down, as `pageLines` gives them: 11 pt text 14 pt apart unless told. */
function page(...specs: Spec[]): PdfLine[] {
  let y = 760;
  return specs.map((spec) => {
    const [text, { size = 11, x = LEFT, gap = 14, full = false, mono = false }] =
      typeof spec === "string" ? [spec, {}] : spec;
    y -= gap;
    const charWidth = size * 0.6;
    const right = full ? RIGHT_MARGIN : x + text.length * charWidth;
    const line: PdfLine = { text, y, x, right, size };
    if (mono) line.code = [{ x, str: text, charWidth }];
    return line;
  });
}

const body = (n: number) => `Body sentence number ${n} carries the ordinary text of this page.`;

describe("layoutBlocks: headings", () => {
  it("ranks heading sizes largest first, and leaves slightly larger text as body", () => {
    // Paragraphs of two lines 14 pt apart set the page's line spacing.
    const paragraph = (n: number, gap: number): Spec[] => [[body(n), { gap, full: true }], "goes on."];
    const blocks = layoutBlocks([
      page(
        ["Guide", { size: 20 }],
        ...paragraph(1, 28),
        ["Install", { size: 16, gap: 24 }],
        ...paragraph(2, 22),
        ["On Linux", { size: 13, gap: 22 }],
        ...paragraph(3, 20),
        ["A note set a little larger.", { size: 12, gap: 22 }],
      ),
    ]);
    expect(blocks).toEqual([
      { kind: "heading", level: 1, text: "Guide", page: 1 },
      { kind: "paragraph", text: `${body(1)} goes on.`, page: 1 },
      { kind: "heading", level: 2, text: "Install", page: 1 },
      { kind: "paragraph", text: `${body(2)} goes on.`, page: 1 },
      { kind: "heading", level: 3, text: "On Linux", page: 1 },
      { kind: "paragraph", text: `${body(3)} goes on.`, page: 1 },
      { kind: "paragraph", text: "A note set a little larger.", page: 1 },
    ]);
  });

  it("joins a heading that wraps onto a second line", () => {
    const blocks = layoutBlocks([
      page(
        ["Configuring widgets for a cluster", { size: 18 }],
        ["of many machines", { size: 18, gap: 22 }],
        [body(1), { gap: 30 }],
      ),
    ]);
    expect(blocks[0]).toEqual({
      kind: "heading",
      level: 1,
      text: "Configuring widgets for a cluster of many machines",
      page: 1,
    });
  });

  it("reads long larger text as a paragraph and a table of contents' entries as text, not headings", () => {
    const lead = [
      "A lead paragraph set larger",
      "runs on for four lines",
      "as an introduction",
      "to the chapter.",
    ];
    const blocks = layoutBlocks([
      page(
        ...lead.map((text, i): Spec => [text, { size: 14, gap: i === 0 ? 14 : 17, full: i < 3 }]),
        ["1 Introduction . . . . . . . . 4", { size: 14, gap: 30 }],
        [body(1), { gap: 30 }],
        body(2),
      ),
    ]);
    expect(blocks.map((block) => block.kind)).toEqual(["paragraph", "paragraph", "paragraph"]);
    expect(blocks[0]?.text).toBe(lead.join(" "));
    expect(blocks[1]?.text).toBe("1 Introduction . . . . . . . . 4");
  });
});

describe("layoutBlocks: contents and index pages", () => {
  // Pages of a line of body text each, so that entries have pages to point at.
  const bodies = (first: number, count: number) => Array.from({ length: count }, (_, i) => body(first + i));
  const bodyPages = (first: number, count: number) => bodies(first, count).map((text) => page(text));
  const texts = (blocks: readonly { text: string }[]) => blocks.map((block) => block.text);

  it("leaves out a table of contents' entries and an index's letters, keeping their headings", () => {
    const blocks = layoutBlocks([
      page(
        ["Contents", { size: 16 }],
        ["1 Introduction . . . . . . . . 1", { gap: 24 }],
        "2 Installing . . . . . . . . . 3",
        "2.1 On Linux . . . . . . . . . 4",
      ),
      page(
        ["Index", { size: 16 }],
        ["A B", { gap: 24 }],
        "apt . . . . . . 4",
        "asn1_create . . . . 12",
        "F",
        "free . . . . 9",
      ),
      page(["Introduction", { size: 16 }], [body(1), { gap: 24 }]),
      ...bodyPages(2, 9),
    ]);
    expect(texts(blocks)).toEqual(["Contents", "Index", "Introduction", ...bodies(1, 10)]);
  });

  it("leaves out an index's entries with several numbers and sub-entries under their entry", () => {
    const blocks = layoutBlocks([
      page(
        ["Index", { size: 16 }],
        ["Apples ..... 12, 45", { gap: 24 }],
        "Bananas ..... 3",
        ["green ..... 7–9", { x: LEFT + 12 }],
        ["ripe ..... 4", { x: LEFT + 12 }],
        "Cherries ..... 30",
      ),
      ...bodyPages(1, 49),
    ]);
    expect(texts(blocks)).toEqual(["Index", ...bodies(1, 49)]);
  });

  it.each([
    ["a spec sheet", ["Weight ........................... 12", "Height ......... 40", "Depth ..... 55"]],
    ["a price list", ["Espresso ....... 2", "Latte ....... 3", "Mocha ....... 4"]],
  ])("keeps %s in a one-page document: its numbers cannot be page numbers", (_, entries) => {
    const prose = "Our cafe serves fresh drinks every day, made to order by trained staff.";
    const blocks = layoutBlocks([page(["Our cafe", { size: 16 }], [prose, { gap: 24 }], ...entries)]);
    // Each on a line of its own, as printed.
    expect(texts(blocks)).toEqual(["Our cafe", [prose, ...entries].join("\n")]);
  });

  it("keeps dot-leader lines in neither a contents page's nor an index's order, however long the document", () => {
    const entries = ["Weight ..... 12", "Height ..... 40", "Depth ..... 5"];
    const blocks = layoutBlocks([page(["Specifications", { size: 16 }], ...entries), ...bodyPages(1, 59)]);
    expect(texts(blocks)).toEqual(["Specifications", entries.join("\n"), ...bodies(1, 59)]);
  });
});

describe("layoutBlocks: code", () => {
  it("keeps a monospaced block whole, blank lines, indentation and columns included", () => {
    const cw = 11 * 0.6;
    const blocks = layoutBlocks([
      page(
        "Run this:",
        ["server:", { mono: true, gap: 18 }],
        ["  port: 8080", { mono: true }],
        ["client:", { mono: true, gap: 28 }],
        ["timeout", { mono: true, x: LEFT + 2 * cw }],
        body(1),
        body(2),
      ),
    ]);
    // A line's pieces keep their columns too: "-v" at column 2, its description at column 14.
    const [intro, option, after] = page("Options:", ["-v verbose output", { mono: true }], body(1));
    const columns = layoutBlocks([
      [
        intro as PdfLine,
        {
          ...(option as PdfLine),
          code: [
            { x: LEFT + 2 * cw, str: "-v", charWidth: cw },
            { x: LEFT + 14 * cw, str: "verbose output", charWidth: cw },
          ],
        },
        after as PdfLine,
      ],
    ]);
    expect(blocks[1]).toEqual({
      kind: "code",
      text: "```\nserver:\n  port: 8080\nclient:\n  timeout\n```",
      page: 1,
    });
    expect(blocks[2]?.kind).toBe("paragraph");
    expect(columns[1]?.text).toBe("```\n-v          verbose output\n```");
  });

  it("sets nothing apart as code in a document typed all in a monospaced font", () => {
    const blocks = layoutBlocks([
      page(["A printed text file,", { mono: true, full: true }], ["all in Courier.", { mono: true }]),
    ]);
    expect(blocks).toEqual([{ kind: "paragraph", text: "A printed text file, all in Courier.", page: 1 }]);
  });
});

describe("layoutBlocks: lists", () => {
  it("makes bulleted and numbered items a Markdown list, nested by indent, wrapped items joined", () => {
    const blocks = layoutBlocks([
      page(
        "You need:",
        ["\u2022 a widget, which every shop sells and every", { full: true, gap: 18 }],
        ["household has", { x: LEFT + 12 }],
        ["\u25e6 in blue", { x: LEFT + 20, gap: 17 }],
        ["\u2022 patience", { gap: 17 }],
        ["Then:", { gap: 24 }],
        ["1. Turn it on.", { gap: 18 }],
        ["2) Wait.", { gap: 17 }],
      ),
    ]);
    expect(blocks).toEqual([
      { kind: "paragraph", text: "You need:", page: 1 },
      {
        kind: "list",
        text: "- a widget, which every shop sells and every household has\n  - in blue\n- patience",
        page: 1,
      },
      { kind: "paragraph", text: "Then:", page: 1 },
      { kind: "list", text: "1. Turn it on.\n2. Wait.", page: 1 },
    ]);
  });

  it("ends a list at a line that follows a short item, however close", () => {
    const blocks = layoutBlocks([page("\u2022 ANY DEFINED BY.", "This version does not handle REAL.")]);
    expect(blocks).toEqual([
      { kind: "list", text: "- ANY DEFINED BY.", page: 1 },
      { kind: "paragraph", text: "This version does not handle REAL.", page: 1 },
    ]);
  });

  it("leaves the text set under a short item's title out of the item, though right of its marker", () => {
    const blocks = layoutBlocks([
      page(
        "Terms:",
        ["0. PREAMBLE", { gap: 18 }],
        [body(1), { x: LEFT + 15, full: true }],
        ["and ends here.", { x: LEFT + 15 }],
      ),
    ]);
    expect(blocks).toEqual([
      { kind: "paragraph", text: "Terms:", page: 1 },
      { kind: "list", text: "0. PREAMBLE", page: 1 },
      { kind: "paragraph", text: `${body(1)} and ends here.`, page: 1 },
    ]);
  });

  it("does not read a line opening with a C pointer's star as an item", () => {
    const blocks = layoutBlocks([page(["int asn1_read (char", { full: true }], "* str, int len)")]);
    expect(blocks).toEqual([{ kind: "paragraph", text: "int asn1_read (char * str, int len)", page: 1 }]);
  });
});

describe("layoutBlocks: page breaks", () => {
  // A facing page's text stands further right: its margins, not the page's edge, set the indent.
  const FACING = 20;

  it("keeps a paragraph running on across a page break one block, on both its pages", () => {
    const blocks = layoutBlocks([
      page(
        ["Foxes", { size: 16 }],
        [body(1), { gap: 24, full: true }],
        ["and the quick brown fox jumps over the fence, a long hyphen-", { full: true }],
      ),
      page(
        ["ated word set on the next page, where the sentence", { x: LEFT + FACING, full: true }],
        ["ends.", { x: LEFT + FACING }],
      ),
    ]);
    expect(blocks).toEqual([
      { kind: "heading", level: 1, text: "Foxes", page: 1 },
      {
        kind: "paragraph",
        text: `${body(1)} and the quick brown fox jumps over the fence, a long hyphenated word set on the next page, where the sentence ends.`,
        page: 1,
        pageEnd: 2,
      },
    ]);
  });

  it("keeps a list item's text running on across a page break in its item", () => {
    const blocks = layoutBlocks([
      page(
        "You need:",
        ["\u2022 an item whose text runs to the margin and", { gap: 18, full: true }],
        ["wraps onto the foot of the page, running on", { x: LEFT + 12, full: true }],
      ),
      page(["to the top of the next.", { x: LEFT + 12 }], [body(2), { gap: 24 }]),
    ]);
    expect(blocks).toEqual([
      { kind: "paragraph", text: "You need:", page: 1 },
      {
        kind: "list",
        text: "- an item whose text runs to the margin and wraps onto the foot of the page, running on to the top of the next.",
        page: 1,
        pageEnd: 2,
      },
      { kind: "paragraph", text: body(2), page: 2 },
    ]);
  });

  // Pages 1 and 2 run on; what page 2's foot and page 3's top hold decides whether page 3's text does too.
  it.each<[string, Spec, Spec, Block]>([
    [
      "a last line ending a sentence",
      [body(3), { full: true }],
      "A new paragraph.",
      { kind: "paragraph", text: "A new paragraph.", page: 3 },
    ],
    [
      "a last line stopping short",
      "stops short",
      "A new paragraph.",
      { kind: "paragraph", text: "A new paragraph.", page: 3 },
    ],
    [
      "a first-line indent",
      ["and runs to the margin", { full: true }],
      ["An indented paragraph.", { x: LEFT + 15 }],
      { kind: "paragraph", text: "An indented paragraph.", page: 3 },
    ],
    [
      "a heading",
      ["and runs to the margin", { full: true }],
      ["Next Section", { size: 16 }],
      { kind: "heading", level: 1, text: "Next Section", page: 3 },
    ],
    [
      "a list item",
      ["and runs to the margin", { full: true }],
      "\u2022 an item",
      { kind: "list", text: "- an item", page: 3 },
    ],
    [
      "code",
      ["and runs to the margin", { full: true }],
      ["npm install widget", { mono: true }],
      { kind: "code", text: "```\nnpm install widget\n```", page: 3 },
    ],
  ])("starts a new block at a page break after %s", (_, foot, top, third) => {
    const blocks = layoutBlocks([
      page(body(1), ["and the text runs to the margin and", { full: true }]),
      page(["on to the next page,", { full: true }], foot),
      page(top, [body(4), { gap: 30 }], body(5)),
    ]);
    const footText = typeof foot === "string" ? foot : foot[0];
    expect(blocks.slice(0, 2)).toEqual([
      {
        kind: "paragraph",
        text: `${body(1)} and the text runs to the margin and on to the next page, ${footText}`,
        page: 1,
        pageEnd: 2,
      },
      third,
    ]);
  });
});

describe("layoutBlocks: page furniture", () => {
  const withFurniture = (n: number, header: string, footer: string): PdfLine[] =>
    page(
      [header, { size: 9 }],
      [body(n), { gap: 40 }],
      [body(n + 1), { full: true }],
      [footer, { size: 9, gap: 40 }],
    );

  it("drops running headers and page numbers set apart at the pages' edges", () => {
    const pages = [
      withFurniture(1, "Chapter 2: Setup 14", "14"),
      withFurniture(3, "Chapter 2: Setup 15", "Page 15 of 90"),
      withFurniture(5, "xvi", "- 16 -"),
    ];
    expect(layoutBlocks(pages).map((block) => block.text)).toEqual([
      `${body(1)} ${body(2)}`,
      `${body(3)} ${body(4)}`,
      `${body(5)} ${body(6)}`,
    ]);
  });

  it("keeps a repeated first line that is not set apart, a page's only line and a title as large as a heading", () => {
    const pages = [
      page(["Shared Widget Spec", { size: 20 }], [body(1), { gap: 40 }], body(2)),
      page(["Question 1", { size: 11 }], body(3)),
      page(["Question 2", { size: 11 }], body(4)),
      page(["Shared Widget Spec", { size: 9 }], [body(5), { gap: 40 }], body(6)),
      page("Page 5 stands alone."),
      page("Page 5 stands alone."),
    ];
    const texts = layoutBlocks(pages).map((block) => block.text);
    expect(texts).toContain("Shared Widget Spec");
    expect(texts.filter((text) => text === "Shared Widget Spec")).toHaveLength(1);
    expect(texts.join("\n")).toMatch(/Question 1/);
    expect(texts.join("\n")).toMatch(/Question 2/);
    expect(texts.filter((text) => text === "Page 5 stands alone.")).toHaveLength(2);
  });
});

describe("pageLines", () => {
  const piece = (str: string, x: number, y: number, extra: Partial<PdfTextPiece> = {}): PdfTextPiece => ({
    str,
    x,
    y,
    width: str.length * 6,
    size: 11,
    monospace: false,
    hasEOL: false,
    ...extra,
  });

  it("starts a new line where the text moves down a line even without pdf.js's end-of-line mark", () => {
    const lines = pageLines([
      piece("Libtasn1", 50, 700, { size: 20 }),
      piece("A library for ASN.1", 50, 680),
    ]);
    expect(lines.map((line) => [line.text, line.size])).toEqual([
      ["Libtasn1", 20],
      ["A library for ASN.1", 11],
    ]);
  });

  it("keeps a superscript on its line, takes the size most characters have and spaces visible gaps", () => {
    const lines = pageLines([
      piece("Energy", 50, 700),
      piece("2", 86, 703, { size: 7 }),
      piece("is conserved", 100, 700, { hasEOL: true }),
      piece("next", 50, 686),
    ]);
    expect(lines[0]).toMatchObject({ text: "Energy2 is conserved", size: 11, x: 50, right: 100 + 12 * 6 });
    expect(lines[0]?.code).toBeUndefined();
    expect(lines[1]?.text).toBe("next");
  });

  it("keeps a monospaced line's pieces, with their character width, to lay it out as code", () => {
    const [line] = pageLines([
      piece("-c", 60, 700, { monospace: true }),
      piece("check", 120, 700, { monospace: true }),
    ]);
    expect(line?.code).toEqual([
      { x: 60, str: "-c", charWidth: 6 },
      { x: 120, str: "check", charWidth: 6 },
    ]);
  });
});
