import {
  Document,
  EndnoteReferenceRun,
  ExternalHyperlink,
  FootnoteReferenceRun,
  HeadingLevel,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
} from "docx";
import { describe, expect, it } from "vitest";
import { DocumentParseError } from "./document-parse-error.js";
import { parseDocx } from "./parse-docx.js";

const cell = (text: string) => new TableCell({ children: [new Paragraph(text)] });

async function reportDocx(): Promise<Uint8Array> {
  const steps = { reference: "steps", levels: [{ level: 0, format: "decimal" as const, text: "%1." }] };
  const document = new Document({
    numbering: { config: [steps] },
    sections: [
      {
        children: [
          new Paragraph({ text: "Quarterly report", heading: HeadingLevel.HEADING_1 }),
          new Paragraph({ text: "Revenue", heading: HeadingLevel.HEADING_2 }),
          new Paragraph({
            children: [new TextRun("Sales grew "), new TextRun({ text: "twice", bold: true })],
          }),
          new Paragraph({ text: "Europe", bullet: { level: 0 } }),
          new Paragraph({ text: "Germany", bullet: { level: 1 } }),
          new Paragraph({ text: "Asia", bullet: { level: 0 } }),
          new Paragraph({ text: "Collect data", numbering: { reference: "steps", level: 0 } }),
          new Paragraph({ text: "Train", numbering: { reference: "steps", level: 0 } }),
          new Table({
            rows: [
              new TableRow({ children: [cell("Region"), cell("Sales | net")] }),
              new TableRow({ children: [cell("EU"), cell("12")] }),
            ],
          }),
        ],
      },
    ],
  });
  return new Uint8Array(await Packer.toBuffer(document));
}

/** The first bytes of an OLE compound file, optionally naming the stream Office encryption stores. */
function compoundFile(withEncryptedPackage: boolean): Uint8Array {
  const signature = Buffer.from("d0cf11e0a1b11ae1", "hex");
  const directory = withEncryptedPackage ? Buffer.from("EncryptedPackage", "utf16le") : Buffer.alloc(0);
  return Buffer.concat([signature, Buffer.alloc(504), directory]);
}

async function parseFailure(bytes: Uint8Array): Promise<DocumentParseError> {
  const error = await parseDocx(bytes).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (error instanceof DocumentParseError) return error;
  throw new Error(`expected a DocumentParseError, got ${String(error)}`);
}

describe("parseDocx", () => {
  it("keeps headings with levels, nested and numbered lists, and tables", async () => {
    expect(await parseDocx(await reportDocx())).toEqual([
      { kind: "heading", level: 1, text: "Quarterly report" },
      { kind: "heading", level: 2, text: "Revenue" },
      { kind: "paragraph", text: "Sales grew twice" },
      { kind: "list", text: "- Europe\n  - Germany\n- Asia" },
      { kind: "list", text: "1. Collect data\n2. Train" },
      { kind: "table", text: "| Region | Sales \\| net |\n| --- | --- |\n| EU | 12 |" },
    ]);
  });

  it("keeps a list of links, which in a Word document is the author's, not a site's menu", async () => {
    const prose =
      "Each quarter the team reviews what it shipped, what it learned from customers, and which of the " +
      "open questions it will answer next, before it plans the work of the quarter that follows.";
    const link = (text: string) =>
      new Paragraph({
        bullet: { level: 0 },
        children: [new ExternalHyperlink({ link: "https://example.com/", children: [new TextRun(text)] })],
      });
    const document = new Document({
      sections: [
        { children: [new Paragraph(prose), link("Pricing plans"), link("Roadmap"), link("Release notes")] },
      ],
    });
    const blocks = await parseDocx(new Uint8Array(await Packer.toBuffer(document)));
    expect(blocks).toEqual([
      { kind: "paragraph", text: prose },
      { kind: "list", text: "- Pricing plans\n- Roadmap\n- Release notes" },
    ]);
  });

  it("reads Word's Title style as a top-level heading, beside Heading 1, and a Subtitle as text", async () => {
    const document = new Document({
      sections: [
        {
          children: [
            new Paragraph({ text: "Policy Document", heading: HeadingLevel.TITLE }),
            new Paragraph({ text: "For all staff", style: "Subtitle" }),
            new Paragraph({ text: "Scope", heading: HeadingLevel.HEADING_1 }),
            new Paragraph("Every office."),
          ],
        },
      ],
    });
    expect(await parseDocx(new Uint8Array(await Packer.toBuffer(document)))).toEqual([
      { kind: "heading", level: 1, text: "Policy Document" },
      { kind: "paragraph", text: "For all staff" },
      { kind: "heading", level: 1, text: "Scope" },
      { kind: "paragraph", text: "Every office." },
    ]);
  });

  it("keeps a footnote's text without the arrow linking back to its reference", async () => {
    const document = new Document({
      footnotes: { 1: { children: [new Paragraph("Footnote body text about sources.")] } },
      sections: [
        {
          children: [
            new Paragraph({ children: [new TextRun("Claims need sources."), new FootnoteReferenceRun(1)] }),
          ],
        },
      ],
    });
    expect(await parseDocx(new Uint8Array(await Packer.toBuffer(document)))).toEqual([
      { kind: "paragraph", text: "Claims need sources.[1]" },
      { kind: "heading", level: 1, text: "Notes" },
      { kind: "list", text: "1. Footnote body text about sources." },
    ]);
  });

  it("puts footnotes and endnotes in a Notes section at the body's top level, numbered as referenced", async () => {
    const document = new Document({
      footnotes: { 1: { children: [new Paragraph("Footnote on sales.")] } },
      endnotes: { 1: { children: [new Paragraph("Endnote on dates.")] } },
      sections: [
        {
          children: [
            new Paragraph({ text: "Guide", heading: HeadingLevel.HEADING_2 }),
            new Paragraph({
              children: [
                new TextRun("Sales grew."),
                new FootnoteReferenceRun(1),
                new TextRun(" In May."),
                new EndnoteReferenceRun(1),
              ],
            }),
            new Paragraph({ text: "Install", heading: HeadingLevel.HEADING_3 }),
            new Paragraph("Run the installer."),
            new Paragraph({ text: "Appendix", heading: HeadingLevel.HEADING_2 }),
            new Paragraph("Appendix text."),
          ],
        },
      ],
    });
    expect(await parseDocx(new Uint8Array(await Packer.toBuffer(document)))).toEqual([
      { kind: "heading", level: 2, text: "Guide" },
      { kind: "paragraph", text: "Sales grew.[1] In May.[2]" },
      { kind: "heading", level: 3, text: "Install" },
      { kind: "paragraph", text: "Run the installer." },
      { kind: "heading", level: 2, text: "Appendix" },
      { kind: "paragraph", text: "Appendix text." },
      { kind: "heading", level: 2, text: "Notes" },
      { kind: "list", text: "1. Footnote on sales.\n2. Endnote on dates." },
    ]);
  });

  it("reports a truncated DOCX as corrupt", async () => {
    const bytes = await reportDocx();
    const error = await parseFailure(bytes.slice(0, bytes.byteLength / 2));
    expect(error.reason).toBe("corrupt");
    expect(error.message).toMatch(/damaged/);
  });

  it("tells a password-protected document from a legacy .doc", async () => {
    expect((await parseFailure(compoundFile(true))).reason).toBe("encrypted");
    expect((await parseFailure(compoundFile(false))).reason).toBe("unsupported");
  });
});
