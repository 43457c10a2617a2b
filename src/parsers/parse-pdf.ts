import { getDocumentProxy } from "unpdf";
import type { Block } from "../core/blocks.js";
import { DocumentParseError } from "./document-parse-error.js";

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

/** What a line needs of pdf.js's text items. */
interface TextItem {
  str: string;
  /** Baseline height on the page. */
  y: number;
  hasEOL: boolean;
}

interface PdfLine {
  text: string;
  /** Baseline height on the page; PDF's y axis points up, so the next line down has a smaller y. */
  y: number;
}

const CLEANUP_EVERY_PAGES = 50;

// A gap this much wider than the page's usual line spacing is read as a paragraph break.
const PARAGRAPH_GAP_FACTOR = 1.4;

const ENCRYPTED = "This PDF is encrypted; remove the password and upload it again.";
const CORRUPT = "This PDF is damaged or is not a PDF; export or save it again and upload the new file.";
const NO_TEXT =
  "This PDF has no text layer (it is probably scanned images); OCR is not supported, so upload a PDF with selectable text.";

/**
 * PDF to one paragraph block per paragraph, each with its 1-based page. Text items are used rather than
 * extractText's joined string because pdf.js emits no blank lines: paragraph breaks survive only as wider
 * vertical gaps between lines.
 */
export async function parsePdf(bytes: Uint8Array): Promise<Block[]> {
  const pdf = await openPdf(bytes);
  try {
    const blocks: Block[] = [];
    for (let page = 1; page <= pdf.numPages; page++) {
      for (const text of pageParagraphs(await pageTextItems(pdf, page))) {
        blocks.push({ kind: "paragraph", text, page });
      }
      // pdf.js keeps what it decoded for the document (fonts, objects) until told: freed every few pages,
      // which keeps a long PDF's peak ~100 MB lower for the same time.
      if (page % CLEANUP_EVERY_PAGES === 0) await pdf.cleanup();
    }
    if (blocks.length === 0) throw new DocumentParseError("empty", NO_TEXT);
    return blocks;
  } finally {
    await pdf.destroy();
  }
}

/**
 * One page's text items, read a page at a time and the page's resources freed after: reading all pages at
 * once (as unpdf's `extractTextItems` does) held every page's decoded content together. Parsing an 8.5 MB
 * PDF of 3,000 pages took the process to 666–843 MB that way, 345–383 MB now.
 */
async function pageTextItems(pdf: PdfDocument, pageNumber: number): Promise<TextItem[]> {
  try {
    const page = await pdf.getPage(pageNumber);
    const content = await page.getTextContent();
    page.cleanup();
    return content.items.flatMap((item) =>
      "str" in item ? [{ str: item.str, y: item.transform[5] as number, hasEOL: item.hasEOL }] : [],
    );
  } catch {
    throw new DocumentParseError("corrupt", CORRUPT);
  }
}

async function openPdf(bytes: Uint8Array): Promise<PdfDocument> {
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given, so it gets a copy — made with the
    // Uint8Array constructor, since a Node Buffer's slice() is a view into a shared pool, not a copy.
    // Verbosity 0 keeps its recovery warnings out of the server log.
    return await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (error) {
    // pdf.js reports a missing password as PasswordException; an encryption scheme it does not support
    // fails differently, so the trailer's /Encrypt entry decides those.
    const encrypted =
      (error instanceof Error && error.name === "PasswordException") || hasEncryptEntry(bytes);
    throw encrypted
      ? new DocumentParseError("encrypted", ENCRYPTED)
      : new DocumentParseError("corrupt", CORRUPT);
  }
}

function hasEncryptEntry(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes("/Encrypt");
}

function pageParagraphs(items: readonly TextItem[]): string[] {
  const lines = pageLines(items);
  const breakGap = usualLineGap(lines) * PARAGRAPH_GAP_FACTOR;
  const paragraphs: string[][] = [];
  lines.forEach((line, i) => {
    const previous = lines[i - 1];
    const gap = previous ? previous.y - line.y : 0;
    // A negative gap means the text moved back up the page: a new column or a floating box.
    const startsParagraph = !previous || gap > breakGap || gap < 0;
    if (startsParagraph) paragraphs.push([line.text]);
    else paragraphs.at(-1)?.push(line.text);
  });
  return paragraphs.map(joinLines).filter((text) => text.length > 0);
}

/** pdf.js splits a line into items wherever the font changes; hasEOL marks where a line really ends. */
function pageLines(items: readonly TextItem[]): PdfLine[] {
  const lines: PdfLine[] = [];
  let current: PdfLine | undefined;
  for (const item of items) {
    if (item.str) {
      current ??= { text: "", y: item.y };
      current.text += item.str;
    }
    if (item.hasEOL && current) {
      lines.push(current);
      current = undefined;
    }
  }
  if (current) lines.push(current);
  return lines
    .map((line) => ({ ...line, text: line.text.replace(/\s+/g, " ").trim() }))
    .filter((line) => line.text);
}

/** The (lower) median gap between consecutive lines: robust to the few wide gaps that are paragraph breaks. */
function usualLineGap(lines: readonly PdfLine[]): number {
  const gaps = lines
    .slice(1)
    .map((line, i) => (lines[i]?.y ?? line.y) - line.y)
    .filter((gap) => gap > 0)
    .sort((a, b) => a - b);
  return gaps[Math.floor((gaps.length - 1) / 2)] ?? Number.POSITIVE_INFINITY;
}

/** Reflows a paragraph's lines, undoing the hyphenation a typesetter added at line ends ("exam-" "ple"). */
function joinLines(lines: readonly string[]): string {
  return lines.reduce((text, line) => {
    if (!text) return line;
    if (!/\p{L}[-\u00AD]$/u.test(text)) return `${text} ${line}`;
    // Before a lower-case letter the hyphen was the typesetter's; before a capital ("Jean-" "Paul") it is
    // the word's own. A soft hyphen is always the typesetter's.
    const typesetterHyphen = text.endsWith("\u00AD") || /^\p{Ll}/u.test(line);
    return typesetterHyphen ? text.slice(0, -1) + line : text + line;
  }, "");
}
