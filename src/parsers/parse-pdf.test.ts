import { createHash } from "node:crypto";
import {
  beginText,
  endText,
  moveText,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFString,
  StandardFonts,
  setFontAndSize,
  showText,
} from "pdf-lib";
import { describe, expect, it } from "vitest";
import { DocumentParseError } from "./document-parse-error.js";
import { parsePdf } from "./parse-pdf.js";

/** A PDF whose pages hold these lines, 16pt apart; an empty string leaves a blank line. */
async function textPdf(pages: string[][]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = pdf.addPage([600, 800]);
    lines.forEach((line, i) => {
      if (line) page.drawText(line, { x: 50, y: 750 - i * 16, size: 12, font });
    });
  }
  return pdf.save();
}

interface Styled {
  text: string;
  size?: number;
  font?: "bold" | "mono";
  /** Left edge; 50 unless set. */
  x?: number;
  /** Points below the previous line's baseline; 16 unless set. */
  gap?: number;
}

/** A PDF laid out as a typesetter would: each page's lines with their own size, font, indent and spacing. */
async function styledPdf(pages: Styled[][]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const fonts = {
    regular: await pdf.embedFont(StandardFonts.Helvetica),
    bold: await pdf.embedFont(StandardFonts.HelveticaBold),
    mono: await pdf.embedFont(StandardFonts.Courier),
  };
  for (const lines of pages) {
    const page = pdf.addPage([600, 800]);
    let y = 766;
    for (const { text, size = 11, font = "regular", x = 50, gap = 16 } of lines) {
      y -= gap;
      page.drawText(text, { x, y, size, font: fonts[font] });
    }
  }
  return pdf.save();
}

/**
 * A line of text in a Japanese, Chinese or Korean font that the PDF names but does not embed, its text
 * coded through one of Adobe's predefined character maps (`encoding`) and with no /ToUnicode map, as
 * Acrobat writes with its standard Asian fonts: only those maps tell the reader what the codes say.
 */
async function unembeddedAsianFontPdf(text: string, font: string, ordering: string, encoding: string) {
  const pdf = await PDFDocument.create();
  const { context } = pdf;
  const descriptor = context.obj({
    Type: "FontDescriptor",
    FontName: font,
    Flags: 6,
    FontBBox: [0, -120, 1000, 880],
    ItalicAngle: 0,
    Ascent: 880,
    Descent: -120,
    CapHeight: 740,
    StemV: 80,
  });
  const cidSystemInfo = context.obj({ Registry: PDFString.of("Adobe"), Ordering: PDFString.of(ordering) });
  cidSystemInfo.set(PDFName.of("Supplement"), context.obj(2));
  const descendant = context.obj({
    Type: "Font",
    Subtype: "CIDFontType0",
    BaseFont: font,
    CIDSystemInfo: cidSystemInfo,
    FontDescriptor: context.register(descriptor),
    DW: 1000,
  });
  const type0 = context.obj({
    Type: "Font",
    Subtype: "Type0",
    BaseFont: `${font}-${encoding}`,
    Encoding: encoding,
    DescendantFonts: [context.register(descendant)],
  });
  const page = pdf.addPage([600, 800]);
  page.node.setFontDictionary(PDFName.of("F1"), context.register(type0));
  const utf16be = Buffer.from(text, "utf16le").swap16().toString("hex");
  page.pushOperators(
    beginText(),
    setFontAndSize("F1", 18),
    moveText(50, 700),
    showText(PDFHexString.of(utf16be)),
    endText(),
  );
  return pdf.save();
}

/** A one-page PDF written by hand, so its trailer can carry an /Encrypt dictionary pdf-lib cannot write. */
function handWrittenPdf(encryptDictionary?: string): Uint8Array {
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ...(encryptDictionary ? [encryptDictionary] : []),
  ];
  let pdf = "%PDF-1.4\n";
  const offsets = objects.map((object, i) => {
    const offset = pdf.length;
    pdf += `${i + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((offset) => `${String(offset).padStart(10, "0")} 00000 n \n`).join("");
  const encrypt = encryptDictionary ? " /Encrypt 4 0 R" : "";
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R${encrypt} /ID [<${FILE_ID}> <${FILE_ID}>] >>\n`;
  return new TextEncoder().encode(`${pdf}startxref\n${xref}\n%%EOF\n`);
}

const FILE_ID = "0123456789abcdef0123456789abcdef";

/**
 * The standard security handler, revision 2 (PDF 1.7 §7.6.3.3–4), with a user password: the O and U
 * entries are computed as a real encrypting tool would, so the reader asks for the password.
 */
function standardSecurityDictionary(userPassword: string, ownerPassword: string): string {
  const permissions = Buffer.alloc(4);
  permissions.writeInt32LE(-4);
  const owner = rc4(md5(padPassword(ownerPassword)).subarray(0, 5), padPassword(userPassword));
  const key = md5(padPassword(userPassword), owner, permissions, Buffer.from(FILE_ID, "hex")).subarray(0, 5);
  const user = rc4(key, PASSWORD_PADDING);
  return `<< /Filter /Standard /V 1 /R 2 /O <${owner.toString("hex")}> /U <${user.toString("hex")}> /P -4 >>`;
}

const PASSWORD_PADDING = Buffer.from(
  "28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a",
  "hex",
);

function padPassword(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, "latin1"), PASSWORD_PADDING]).subarray(0, 32);
}

function md5(...parts: Buffer[]): Buffer {
  return createHash("md5").update(Buffer.concat(parts)).digest();
}

// OpenSSL 3 no longer offers RC4 by default, so the test carries the few lines it takes.
function rc4(key: Buffer, data: Buffer): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i);
  const swap = (a: number, b: number) => {
    [s[a], s[b]] = [s[b] ?? 0, s[a] ?? 0];
  };
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + (s[i] ?? 0) + (key[i % key.length] ?? 0)) & 255;
    swap(i, j);
  }
  const out = Buffer.alloc(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 255;
    j = (j + (s[i] ?? 0)) & 255;
    swap(i, j);
    out[k] = (data[k] ?? 0) ^ (s[((s[i] ?? 0) + (s[j] ?? 0)) & 255] ?? 0);
  }
  return out;
}

async function parseFailure(bytes: Uint8Array): Promise<DocumentParseError> {
  const error = await parsePdf(bytes).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (error instanceof DocumentParseError) return error;
  throw new Error(`expected a DocumentParseError, got ${String(error)}`);
}

describe("parsePdf", () => {
  it("gives each page's paragraphs with their page number, reflowed and de-hyphenated", async () => {
    const bytes = await textPdf([
      [
        "Widgets and how to use them",
        "",
        "Widgets make a fine exam-",
        "ple of hyphenation in a long",
        "sentence.",
        "",
        "Well-known widgets by Jean-",
        "Paul Martin.",
      ],
      ["Page two starts here."],
    ]);
    expect(await parsePdf(bytes)).toEqual([
      { kind: "paragraph", text: "Widgets and how to use them", page: 1 },
      { kind: "paragraph", text: "Widgets make a fine example of hyphenation in a long sentence.", page: 1 },
      { kind: "paragraph", text: "Well-known widgets by Jean-Paul Martin.", page: 1 },
      { kind: "paragraph", text: "Page two starts here.", page: 2 },
    ]);
  });

  it("reads a manual's structure from its layout: headings by size, code, lists, no page furniture", async () => {
    const header = (page: number): Styled[] => [{ text: `Widget Manual ${page}`, size: 9 }];
    const footer = (page: number): Styled[] => [{ text: String(page), size: 9, x: 290, gap: 40 }];
    const bytes = await styledPdf([
      [
        { text: "Widget Manual", size: 24, font: "bold" },
        { text: "Everything about widgets.", gap: 30 },
      ],
      [
        ...header(2),
        { text: "1 Installing", size: 16, font: "bold", gap: 40 },
        { text: "Install the widget with:", gap: 24 },
        { text: "npm install widget", font: "mono" },
        { text: "widget --init", font: "mono", x: 50 + 2 * 6.6 },
        { text: "1.1 Requirements", size: 13, font: "bold", gap: 26 },
        { text: "\u2022 Node.js 20 or newer, which every supported operating system can run", gap: 22 },
        { text: "without extra steps.", x: 62 },
        { text: "\u2022 A terminal." },
        { text: "The rest is optional." },
        ...footer(2),
      ],
      [
        ...header(3),
        { text: "2 Using", size: 16, font: "bold", gap: 40 },
        { text: "Widgets turn when told.", gap: 24 },
        ...footer(3),
      ],
    ]);
    expect(await parsePdf(bytes)).toEqual([
      { kind: "heading", level: 1, text: "Widget Manual", page: 1 },
      { kind: "paragraph", text: "Everything about widgets.", page: 1 },
      { kind: "heading", level: 2, text: "1 Installing", page: 2 },
      { kind: "paragraph", text: "Install the widget with:", page: 2 },
      { kind: "code", text: "```\nnpm install widget\n  widget --init\n```", page: 2 },
      { kind: "heading", level: 3, text: "1.1 Requirements", page: 2 },
      {
        kind: "list",
        text: "- Node.js 20 or newer, which every supported operating system can run without extra steps.\n- A terminal.",
        page: 2,
      },
      { kind: "paragraph", text: "The rest is optional.", page: 2 },
      { kind: "heading", level: 2, text: "2 Using", page: 3 },
      { kind: "paragraph", text: "Widgets turn when told.", page: 3 },
    ]);
  });

  it("keeps a paragraph running on across a page break one block, on both its pages", async () => {
    const header: Styled = { text: "Fox Report", size: 9 };
    const footer = (page: number): Styled => ({ text: String(page), size: 9, x: 290, gap: 40 });
    const lines = [
      "The quick brown fox jumps over the lazy dog while the farmer watches from his porch and",
      "sips his tea; the fox, who has done this every morning for a week, jumps once more and",
      "lands in the hay, where the dog, still asleep, does not see it go by on its way back home",
      "to the den by the river, and the morning goes on as every other morning has gone on there.",
    ] as const;
    const bytes = await styledPdf([
      [
        header,
        { text: "Foxes", size: 16, font: "bold", gap: 40 },
        { text: lines[0], gap: 26 },
        { text: lines[1] },
        footer(1),
      ],
      [
        header,
        { text: lines[2], gap: 40 },
        { text: lines[3] },
        { text: "The farmer laughs.", gap: 24 },
        footer(2),
      ],
    ]);
    expect(await parsePdf(bytes)).toEqual([
      { kind: "heading", level: 1, text: "Foxes", page: 1 },
      { kind: "paragraph", text: lines.join(" "), page: 1, pageEnd: 2 },
      { kind: "paragraph", text: "The farmer laughs.", page: 2 },
    ]);
  });

  it("keeps a paragraph running on across a page break one block when only one page has an outdented heading", async () => {
    const body = (text: string): Styled => ({ text, x: 98 });
    const bytes = await styledPdf([
      [
        { text: "2.1. Directory layout", size: 14, font: "bold" },
        { ...body("This specification uses the XDG Base Directory Specification to define the"), gap: 30 },
        body("prefixes below which the database is stored. When using the default paths, all"),
        body("files are loaded in this order, if they exist. Information found in a subsequent"),
      ],
      [
        body("directory is added to the information found in previous directories, except when"),
        body("a deleteall element overwrites parts of a definition."),
      ],
    ]);
    expect(await parsePdf(bytes)).toEqual([
      { kind: "heading", level: 1, text: "2.1. Directory layout", page: 1 },
      {
        kind: "paragraph",
        text: "This specification uses the XDG Base Directory Specification to define the prefixes below which the database is stored. When using the default paths, all files are loaded in this order, if they exist. Information found in a subsequent directory is added to the information found in previous directories, except when a deleteall element overwrites parts of a definition.",
        page: 1,
        pageEnd: 2,
      },
    ]);
  });

  it("keeps a wrapped line opening with a number in its paragraph, and a list after a sentence a list", async () => {
    const bytes = await styledPdf([
      [
        { text: "Writing values", size: 16, font: "bold" },
        { text: 'SEQUENCE OF: VALUE must be the null terminated string "NEW" and LEN must not be', gap: 26 },
        { text: '0. With this instruction another element is appended to the sequence, named "?1" if' },
        { text: 'it is the first one, "?2" for the second and so on. These notes were first published in' },
        { text: "2. They have been revised since then and describe the behaviour of every option." },
        {
          text: 'To append an element to a sequence, call the function with "NEW" as its value, then:',
          gap: 26,
        },
        { text: "1. Read the new element back." },
        { text: "2. Write its value." },
      ],
    ]);
    expect(await parsePdf(bytes)).toEqual([
      { kind: "heading", level: 1, text: "Writing values", page: 1 },
      {
        kind: "paragraph",
        text: 'SEQUENCE OF: VALUE must be the null terminated string "NEW" and LEN must not be 0. With this instruction another element is appended to the sequence, named "?1" if it is the first one, "?2" for the second and so on. These notes were first published in 2. They have been revised since then and describe the behaviour of every option.',
        page: 1,
      },
      {
        kind: "paragraph",
        text: 'To append an element to a sequence, call the function with "NEW" as its value, then:',
        page: 1,
      },
      { kind: "list", text: "1. Read the new element back.\n2. Write its value.", page: 1 },
    ]);
  });

  it("opens a list at '1.' after a line that runs to the margin, and ends one-line items before a long first word", async () => {
    const bytes = await styledPdf([
      [
        { text: "To install the package on a machine without network access you should follow these steps" },
        { text: "1. Download the installer." },
        { text: "2. Run it as root." },
        { text: "The server stores its data in one of these databases, which it finds by itself:", gap: 26 },
        { text: "- PostgreSQL 14 or newer." },
        { text: "- SQLite 3.40 or newer." },
        { text: "https://www.example.org/docs/current/installation-requirements.html lists the rest." },
      ],
    ]);
    expect(await parsePdf(bytes)).toEqual([
      {
        kind: "paragraph",
        text: "To install the package on a machine without network access you should follow these steps",
        page: 1,
      },
      { kind: "list", text: "1. Download the installer.\n2. Run it as root.", page: 1 },
      {
        kind: "paragraph",
        text: "The server stores its data in one of these databases, which it finds by itself:",
        page: 1,
      },
      { kind: "list", text: "- PostgreSQL 14 or newer.\n- SQLite 3.40 or newer.", page: 1 },
      {
        kind: "paragraph",
        text: "https://www.example.org/docs/current/installation-requirements.html lists the rest.",
        page: 1,
      },
    ]);
  });

  it("keeps an item's text a long word moved down in its item, and ends a hanging list at a line back at its bullets", async () => {
    const bytes = await styledPdf([
      [
        { text: "Some subclass rules are implicit:" },
        { text: "\u2022 All text/* types are subclasses of text/plain." },
        { text: "\u2022 All streamable types (all but inode/* types) are subclasses of" },
        { text: "application/x-octet-stream-with-a-long-name. It is the root of all types.", x: 62 },
        { text: "In addition to these rules, explicit subclass information may also be given using the" },
        { text: "sub-class-of element, as the next sections of this specification describe." },
        {
          text: "The update command creates the following files, which the next sections describe:",
          gap: 26,
        },
        { text: "\u2022 globs (contains a mapping from names to MIME types, deprecated for globs2)" },
        {
          text: "\u2022 mime.cache (contains the same information as the globs2, magic and subclasses files,",
        },
        { text: "in a binary, mmappable format that applications can read quickly, and much more)", x: 62 },
        { text: "The format of these generated files and of the source files in packages is explained in" },
        { text: "the following sections." },
      ],
    ]);
    expect(await parsePdf(bytes)).toEqual([
      { kind: "paragraph", text: "Some subclass rules are implicit:", page: 1 },
      {
        kind: "list",
        text: "- All text/* types are subclasses of text/plain.\n- All streamable types (all but inode/* types) are subclasses of application/x-octet-stream-with-a-long-name. It is the root of all types.",
        page: 1,
      },
      {
        kind: "paragraph",
        text: "In addition to these rules, explicit subclass information may also be given using the sub-class-of element, as the next sections of this specification describe.",
        page: 1,
      },
      {
        kind: "paragraph",
        text: "The update command creates the following files, which the next sections describe:",
        page: 1,
      },
      {
        kind: "list",
        text: "- globs (contains a mapping from names to MIME types, deprecated for globs2)\n- mime.cache (contains the same information as the globs2, magic and subclasses files, in a binary, mmappable format that applications can read quickly, and much more)",
        page: 1,
      },
      {
        kind: "paragraph",
        text: "The format of these generated files and of the source files in packages is explained in the following sections.",
        page: 1,
      },
    ]);
  });

  it("joins an identifier a line break split after its underscore, but not a word after a run of underscores", async () => {
    const bytes = await styledPdf([
      [
        {
          text: "Returns: ASN1_SUCCESS if the file has a correct syntax and every identifier is known, ASN1_",
        },
        { text: "SYNTAX_ERROR if the syntax is not correct. Its constructor is the class\u2019s __init__" },
        { text: "method, which takes no arguments." },
      ],
    ]);
    expect(await parsePdf(bytes)).toEqual([
      {
        kind: "paragraph",
        text: "Returns: ASN1_SUCCESS if the file has a correct syntax and every identifier is known, ASN1_SYNTAX_ERROR if the syntax is not correct. Its constructor is the class\u2019s __init__ method, which takes no arguments.",
        page: 1,
      },
    ]);
  });

  it("leaves out a texinfo index's entries, in its order: letter by letter, punctuation aside", async () => {
    const chapters = [1, 2, 3, 4, 5].map((n): Styled[] => [
      { text: `Chapter ${n}`, size: 16, font: "bold" },
      { text: `Chapter ${n} explains one part of the library in plain words.`, gap: 26 },
    ]);
    const entry = (label: string, page: number): Styled => ({ text: `${label} ${". ".repeat(12)}${page}` });
    const letter = (text: string): Styled => ({ text, font: "bold", gap: 22 });
    const bytes = await styledPdf([
      ...chapters,
      [
        { text: "Concept Index", size: 16, font: "bold" },
        { ...letter("A"), gap: 26 },
        // texindex's order, not word by word: "asn1Parser" before "ASN.1".
        entry("asn1Coding program", 5),
        entry("asn1Parser program", 5),
        entry("ASN.1 schema", 2),
        letter("F"),
        entry("FDL, GNU Free Documentation License", 5),
        entry("Future developments", 4),
        letter("T"),
        entry("threads", 1),
      ],
    ]);
    const blocks = await parsePdf(bytes);
    expect(blocks.filter((block) => block.page === 6)).toEqual([
      { kind: "heading", level: 1, text: "Concept Index", page: 6 },
    ]);
    expect(blocks).toHaveLength(11);
  });

  it.each([
    ["a spec sheet", ["Weight ........................... 12", "Height ......... 40", "Depth ..... 55"]],
    ["a price list", ["Espresso ....... 2", "Latte ....... 3", "Mocha ....... 4"]],
  ])("keeps %s's dot-leader lines, which in a one-page PDF are no contents page", async (_, entries) => {
    const prose = "Our cafe serves fresh drinks every day, made to order by trained staff.";
    const bytes = await styledPdf([
      [
        { text: "Specifications", size: 16, font: "bold" },
        { text: prose, gap: 26 },
        ...entries.map((text, i) => ({ text, gap: i === 0 ? 26 : 16 })),
      ],
    ]);
    expect(await parsePdf(bytes)).toEqual([
      { kind: "heading", level: 1, text: "Specifications", page: 1 },
      { kind: "paragraph", text: prose, page: 1 },
      { kind: "paragraph", text: entries.join("\n"), page: 1 },
    ]);
  });

  it("reads a long PDF page by page, every page's text under its own number", async () => {
    const pages = Array.from({ length: 130 }, (_, i) => [`Page ${i + 1} says the fee is ${i * 3} euros.`]);
    const blocks = await parsePdf(await textPdf(pages));
    expect(blocks).toEqual(pages.map(([line], i) => ({ kind: "paragraph", text: line, page: i + 1 })));
  });

  it("leaves the caller's bytes usable after parsing", async () => {
    const bytes = await textPdf([["Reusable"]]);
    await parsePdf(bytes);
    expect(bytes.byteLength).toBeGreaterThan(0);
    expect(await parsePdf(bytes)).toHaveLength(1);
  });

  it.each([
    {
      text: "日本語のテキストです。",
      font: "KozMinPro-Regular",
      ordering: "Japan1",
      encoding: "UniJIS-UCS2-H",
    },
    { text: "这是中文的文本。", font: "STSong-Light", ordering: "GB1", encoding: "UniGB-UCS2-H" },
    { text: "這是中文的文本。", font: "MSung-Light", ordering: "CNS1", encoding: "UniCNS-UCS2-H" },
    {
      text: "한국어 텍스트입니다.",
      font: "HYSMyeongJo-Medium",
      ordering: "Korea1",
      encoding: "UniKS-UCS2-H",
    },
  ])("reads $encoding text in an Asian font the PDF does not embed", async (sample) => {
    const pdf = await unembeddedAsianFontPdf(sample.text, sample.font, sample.ordering, sample.encoding);
    expect(await parsePdf(pdf)).toEqual([{ kind: "paragraph", text: sample.text, page: 1 }]);
  });

  it("reports a PDF without a text layer as empty, saying OCR is not supported", async () => {
    const error = await parseFailure(await textPdf([[], []]));
    expect(error.reason).toBe("empty");
    expect(error.message).toMatch(/no text layer/);
    expect(error.message).toMatch(/OCR is not supported/);
  });

  it("reports a PDF without pages as empty, saying so rather than blaming a missing text layer", async () => {
    // pdf-lib saves a document without pages with one blank page unless told not to.
    const error = await parseFailure(await (await PDFDocument.create()).save({ addDefaultPage: false }));
    expect(error.reason).toBe("empty");
    expect(error.message).toMatch(/no pages/);
    expect(error.message).not.toMatch(/text layer/);
  });

  it("reports truncated or non-PDF bytes as corrupt", async () => {
    const bytes = await textPdf([["Some text"]]);
    expect((await parseFailure(bytes.slice(0, bytes.byteLength / 2))).reason).toBe("corrupt");
    expect((await parseFailure(new TextEncoder().encode("not a pdf at all"))).reason).toBe("corrupt");
  });

  it("reports a password-protected PDF as encrypted", async () => {
    const error = await parseFailure(handWrittenPdf(standardSecurityDictionary("secret", "owner")));
    expect(error.reason).toBe("encrypted");
    expect(error.message).toBe("This PDF is encrypted; remove the password and upload it again.");
  });

  it("reports a PDF under an encryption scheme the reader does not know as encrypted", async () => {
    const error = await parseFailure(handWrittenPdf("<< /Filter /Adobe.PubSec /V 4 /R 4 >>"));
    expect(error.reason).toBe("encrypted");
  });

  it("opens the hand-written PDF when it is not encrypted, so the fixture itself is sound", async () => {
    expect((await parseFailure(handWrittenPdf())).reason).toBe("empty");
  });
});
