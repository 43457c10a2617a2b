import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { DocumentType } from "../core/document-types.js";
import { DocumentParseError, parseDocument } from "./parse-document.js";

const utf8 = (text: string) => new TextEncoder().encode(text);

async function parseFailure(type: DocumentType, bytes: Uint8Array): Promise<DocumentParseError> {
  const error = await parseDocument(type, bytes).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (error instanceof DocumentParseError) return error;
  throw new Error(`expected a DocumentParseError, got ${String(error)}`);
}

describe("parseDocument", () => {
  it("drops a BOM, normalises CRLF and replaces invalid UTF-8", async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8("# Title\r\n\r\nCaf"), 0xff, ...utf8("\r\nend")]);
    expect(await parseDocument("markdown", bytes)).toEqual([
      { kind: "heading", level: 1, text: "Title" },
      { kind: "paragraph", text: "Caf\uFFFD\nend" },
    ]);
  });

  it("reads text an older Windows editor saved in its code page, and keeps UTF-8 with a stray byte UTF-8", async () => {
    const windows1252 = new Uint8Array([
      ...utf8("Caf"),
      0xe9,
      ...utf8(" cr"),
      0xe8,
      ...utf8("me "),
      0x93,
      0x61,
      0x94,
    ]);
    expect(await parseDocument("text", windows1252)).toEqual([{ kind: "paragraph", text: "Café crème “a”" }]);
    const damaged = new Uint8Array([...utf8("naïve café "), 0xff, ...utf8(" end")]);
    expect(await parseDocument("text", damaged)).toEqual([
      { kind: "paragraph", text: "naïve café \uFFFD end" },
    ]);
  });

  it("reads an HTML page in the charset its <meta> declares", async () => {
    const shiftJis = new Uint8Array([
      ...utf8('<html><head><meta charset="Shift_JIS"></head><body><p>'),
      ...[0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea],
      ...utf8("</p></body></html>"),
    ]);
    expect(await parseDocument("html", shiftJis)).toEqual([{ kind: "paragraph", text: "日本語" }]);
    const windows1251 = new Uint8Array([
      ...utf8('<meta http-equiv="Content-Type" content="text/html; charset=windows-1251"><p>'),
      ...[0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2],
      ...utf8("</p>"),
    ]);
    expect(await parseDocument("html", windows1251)).toEqual([{ kind: "paragraph", text: "Привет" }]);
    // What browsers read for ISO-8859-1 is Windows-1252, curly quotes and the euro sign included.
    const latin1 = new Uint8Array([
      ...utf8('<meta charset="iso-8859-1"><p>'),
      0x80,
      0x20,
      0x93,
      0x61,
      0x94,
      0xe9,
    ]);
    expect(await parseDocument("html", latin1)).toEqual([{ kind: "paragraph", text: "€ “a”é" }]);
    // A charset no decoder knows, or UTF-16 on a page whose <meta> reads as ASCII: the bytes decide.
    for (const label of ["x-made-up", "utf-16"]) {
      const page = utf8(`<meta charset="${label}"><p>Grüße</p>`);
      expect(await parseDocument("html", page)).toEqual([{ kind: "paragraph", text: "Grüße" }]);
    }
    // Saying UTF-8, saved in Windows-1252 (an editor that kept its template's <meta>): read as saved.
    const mislabelled = new Uint8Array(
      Buffer.from('<meta charset="utf-8"><h1>Café</h1><p>Le café est très apprécié à Noël.</p>', "latin1"),
    );
    expect(await parseDocument("html", mislabelled)).toEqual([
      { kind: "heading", level: 1, text: "Café" },
      { kind: "paragraph", text: "Le café est très apprécié à Noël." },
    ]);
  });

  it("reads UTF-16 text saved with a byte order mark", async () => {
    const bytes = new Uint8Array([0xff, 0xfe, ...Buffer.from("Hello\r\n\r\nWorld", "utf16le")]);
    expect(await parseDocument("text", bytes)).toEqual([
      { kind: "paragraph", text: "Hello" },
      { kind: "paragraph", text: "World" },
    ]);
  });

  it("reads UTF-16 saved without a byte order mark, either way round, Markdown structure and all", async () => {
    const text = "# Guide\r\n\r\nInstall it on the café's laptop — 設定 first.\r\n";
    const le = Buffer.from(text, "utf16le");
    const blocks = [
      { kind: "heading", level: 1, text: "Guide" },
      { kind: "paragraph", text: "Install it on the café's laptop — 設定 first." },
    ];
    expect(await parseDocument("markdown", new Uint8Array(le))).toEqual(blocks);
    expect(await parseDocument("markdown", new Uint8Array(Buffer.from(le).swap16()))).toEqual(blocks);
    // With a stray byte at its end, as another editor's newline or a cut leaves it.
    const odd = new Uint8Array([...le, 0x0a]);
    expect(await parseDocument("markdown", odd)).toEqual(blocks);
    // ASCII only, which as UTF-8 is valid, with a NUL after every character.
    expect(await parseDocument("text", new Uint8Array(Buffer.from("Hello\n\nWorld", "utf16le")))).toEqual([
      { kind: "paragraph", text: "Hello" },
      { kind: "paragraph", text: "World" },
    ]);
    // A stray NUL in UTF-8 text is no UTF-16.
    expect(await parseDocument("text", utf8("Hello\u0000, world."))).toEqual([
      { kind: "paragraph", text: "Hello, world." },
    ]);
  });

  it("dispatches each type to its parser", async () => {
    expect(await parseDocument("html", utf8("<h2>Hi</h2><p>There.</p>"))).toEqual([
      { kind: "heading", level: 2, text: "Hi" },
      { kind: "paragraph", text: "There." },
    ]);
    expect(await parseDocument("jsonl", utf8('{"text":"x"}'))).toEqual([
      { kind: "heading", level: 1, text: "" },
      { kind: "paragraph", text: "x" },
    ]);
    expect(await parseDocument("mdx", utf8('import X from "x";\n\nHi.'))).toEqual([
      { kind: "paragraph", text: "Hi." },
    ]);
  });

  it("drops NUL characters, which the database cannot store, from every kind of text", async () => {
    expect(await parseDocument("text", utf8("Before\u0000after.\n\n\u0000"))).toEqual([
      { kind: "paragraph", text: "Beforeafter." },
    ]);
    expect(await parseDocument("markdown", utf8("# Ti\u0000tle\n\nBody \u0000text."))).toEqual([
      { kind: "heading", level: 1, text: "Title" },
      { kind: "paragraph", text: "Body text." },
    ]);
    expect(await parseDocument("jsonl", utf8('{"text":"esc\\u0000aped"}'))).toEqual([
      { kind: "heading", level: 1, text: "" },
      { kind: "paragraph", text: "escaped" },
    ]);
  });

  it("refuses binary files given a text extension, naming what they are where it can", async () => {
    const text = utf8("# Guide\n\nRun the installer, then sign in with your account.\n".repeat(40));
    const cases: [DocumentType, Uint8Array, string][] = [
      ["text", gzipSync(text), "This file is not text: it is compressed with gzip: decompress it first."],
      [
        "markdown",
        utf8("%PDF-1.7\n%âãÏÓ\n1 0 obj"),
        "This file is not text: it is a PDF: give it the .pdf extension.",
      ],
      ["markdown", new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0]), "a ZIP archive"],
      ["jsonl", new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), "an older Office file"],
      [
        "html",
        new Uint8Array([
          0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
        ]),
        "This file is not text: it is a PNG image, and FineFlow reads no text from images.",
      ],
      ["text", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]), "a JPEG image"],
      ["markdown", utf8("GIF89a\x01\x00\x01\x00"), "a GIF image"],
    ];
    // Random bytes (an image or a program with no signature listed), the same on every run.
    let seed = 7;
    const noise = new Uint8Array(4000).map(() => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed >> 16;
    });
    cases.push(["markdown", noise, "This file is not text: it holds binary data"]);
    // 16-bit samples (audio, a table of small numbers): UTF-16's zero bytes, characters no text has.
    const samples = new Uint8Array(new Uint16Array(2000).map((_, i) => (i * 37) % 200).buffer);
    cases.push(["text", samples, "This file is not text: it holds binary data"]);
    for (const [type, bytes, message] of cases) {
      const error = await parseFailure(type, bytes);
      expect(error.reason).toBe("unsupported");
      expect(error.message).toContain(message);
    }
    // Text with a coloured log's escapes, form feeds, a stray NUL and a DOS end-of-file mark stays text.
    const log = utf8(
      `\x1b[32mINFO\x1b[0m server started\n\f\nPage two of the log, with a stray\u0000 NUL.\n${"\x1b[33mWARN\x1b[0m slow request\n".repeat(50)}\x1a`,
    );
    const blocks = await parseDocument("text", log);
    expect(blocks[0]?.text).toContain("server started");
    // A record padded with zero bytes to a fixed width, a log whose lines ring the bell, `man`'s overstrike.
    const others = [
      `Name: José, account 1234.${"\u0000".repeat(40)}`,
      "build finished\u0007\n".repeat(20),
      "N\bNA\bAM\bME\bE\n     ls - list directory contents\n".repeat(5),
    ];
    for (const other of others) expect(await parseDocument("text", utf8(other))).not.toEqual([]);
  });

  it("reports a file without usable text as empty", async () => {
    expect((await parseFailure("text", new Uint8Array())).reason).toBe("empty");
    expect((await parseFailure("markdown", utf8("---\ntitle: x\n---\n\n   \n"))).reason).toBe("empty");
    expect((await parseFailure("html", utf8("<script>x()</script><nav>Home</nav>"))).reason).toBe("empty");
    expect((await parseFailure("json", utf8('[{"text": "  "}]'))).reason).toBe("empty");
    expect(await parseFailure("markdown", utf8("# Guide\n\n## Install\n"))).toMatchObject({
      reason: "empty",
      message: "The document has headings but no text under them to use.",
    });
    expect((await parseFailure("html", utf8("<h1>Guide</h1><nav>Home</nav>"))).reason).toBe("empty");
  });

  it("refuses an unknown type as unsupported", async () => {
    expect((await parseFailure("rtf" as DocumentType, utf8("x"))).reason).toBe("unsupported");
  });
});
