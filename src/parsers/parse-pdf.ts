import { fileURLToPath } from "node:url";
import { getDocumentProxy } from "unpdf";
import type { Block } from "../core/blocks.js";
import { DocumentParseError } from "./document-parse-error.js";
import { layoutBlocks, type PdfLine, type PdfTextPiece, pageLines } from "./pdf-layout.js";

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

/**
 * Adobe's character maps, as pdf.js ships them (pdfjs-dist 5.6.205's `cmaps/`, the version unpdf bundles):
 * a PDF may name a standard Japanese, Chinese or Korean font without embedding it, its text then coded
 * through one of these maps (UniJIS-UCS2-H…). Without them pdf.js read no text from such a PDF, which
 * failed as "no text layer". Kept here rather than as the pdfjs-dist package: these 1.7 MB are all of its
 * 41 MB (and the native canvas it brings) that reading text needs.
 */
const CMAPS = fileURLToPath(new URL("./pdf-cmaps/", import.meta.url));

const CLEANUP_EVERY_PAGES = 50;

const ENCRYPTED = "This PDF is encrypted; remove the password and upload it again.";
const CORRUPT = "This PDF is damaged or is not a PDF; export or save it again and upload the new file.";
const NO_PAGES = "This PDF has no pages (it is empty); upload a PDF with content.";
const NO_TEXT =
  "This PDF has no text layer (it is probably scanned images); OCR is not supported, so upload a PDF with selectable text.";

/**
 * PDF to blocks (headings, paragraphs, lists, code), each with its 1-based page, read from the layout of the
 * text (`pdf-layout.ts`). pdf.js's text items are used rather than its joined text, which has no blank
 * lines, sizes, fonts or positions: paragraph breaks survive only as wider vertical gaps between lines.
 */
export async function parsePdf(bytes: Uint8Array): Promise<Block[]> {
  const pdf = await openPdf(bytes);
  try {
    // A PDF without pages has no text layer to miss: NO_TEXT's scanned images would send the user to OCR.
    if (pdf.numPages === 0) throw new DocumentParseError("empty", NO_PAGES);
    const pages: PdfLine[][] = [];
    for (let page = 1; page <= pdf.numPages; page++) {
      pages.push(pageLines(await pageTextPieces(pdf, page)));
      // pdf.js keeps what it decoded for the document (fonts, objects) until told: freed every few pages,
      // which keeps a long PDF's peak ~100 MB lower for the same time.
      if (page % CLEANUP_EVERY_PAGES === 0) await pdf.cleanup();
    }
    const blocks = layoutBlocks(pages);
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
async function pageTextPieces(pdf: PdfDocument, pageNumber: number): Promise<PdfTextPiece[]> {
  try {
    const page = await pdf.getPage(pageNumber);
    const content = await page.getTextContent();
    page.cleanup();
    return content.items.flatMap((item) => {
      if (!("str" in item)) return [];
      const [, , c = 0, d = 0, x = 0, y = 0] = item.transform as number[];
      return [
        {
          str: item.str,
          x,
          y,
          width: item.width,
          // The text matrix's vertical scale: the font size, whatever the item's own height says.
          size: Math.hypot(c, d),
          monospace: content.styles[item.fontName]?.fontFamily === "monospace",
          hasEOL: item.hasEOL,
        },
      ];
    });
  } catch {
    throw new DocumentParseError("corrupt", CORRUPT);
  }
}

async function openPdf(bytes: Uint8Array): Promise<PdfDocument> {
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given, so it gets a copy — made with the
    // Uint8Array constructor, since a Node Buffer's slice() is a view into a shared pool, not a copy.
    // Verbosity 0 keeps its recovery warnings out of the server log.
    return await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, cMapUrl: CMAPS, cMapPacked: true });
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
