import { type Block, isUntitledSection } from "../core/blocks.js";
import type { DocumentType } from "../core/document-types.js";
import { decodeText } from "./decode-text.js";
import { DocumentParseError } from "./document-parse-error.js";
import { parseHtml } from "./parse-html.js";
import { parseJsonLinesRecords, parseJsonRecords } from "./parse-json-records.js";
import { parseMarkdown, parseMdx } from "./parse-markdown.js";
import { parseText } from "./parse-text.js";

export { DocumentParseError, type DocumentParseFailure } from "./document-parse-error.js";

const TEXT_PARSERS = new Map<DocumentType, (text: string) => Block[]>([
  ["markdown", parseMarkdown],
  ["mdx", parseMdx],
  ["text", parseText],
  ["html", parseHtml],
  ["json", parseJsonRecords],
  ["jsonl", parseJsonLinesRecords],
]);

/**
 * An uploaded file's bytes to structural blocks. Throws DocumentParseError, whose reason and message are
 * meant to be kept on the failed document and shown to the user.
 */
export async function parseDocument(type: DocumentType, bytes: Uint8Array): Promise<Block[]> {
  if (bytes.byteLength === 0) throw new DocumentParseError("empty", "The file is empty.");
  const blocks = (await parseByType(type, bytes))
    .map(withoutNul)
    .filter((block) => block.text.trim().length > 0 || isUntitledSection(block));
  if (blocks.every(isUntitledSection)) {
    throw new DocumentParseError("empty", "The document contains no text that could be used.");
  }
  // Chunks are made of what sections hold, so a document of headings alone was "ready" with no chunks.
  if (blocks.every((block) => block.kind === "heading")) {
    throw new DocumentParseError("empty", "The document has headings but no text under them to use.");
  }
  return blocks;
}

/**
 * PostgreSQL cannot store U+0000 in text, so one stray NUL, as text extracted from some PDFs and exports
 * has, failed the whole document when its chunks were stored. It carries no text: it is dropped.
 */
function withoutNul(block: Block): Block {
  return block.text.includes("\u0000") ? { ...block, text: block.text.replaceAll("\u0000", "") } : block;
}

async function parseByType(type: DocumentType, bytes: Uint8Array): Promise<Block[]> {
  // Their libraries (pdf.js, mammoth) are loaded by the first document that needs them, not by every
  // `fineflow` command at its start.
  if (type === "pdf") return (await import("./parse-pdf.js")).parsePdf(bytes);
  if (type === "docx") return (await import("./parse-docx.js")).parseDocx(bytes);
  // The type can come from stored data, so an unknown one is refused here rather than trusted.
  const parseTextFormat = TEXT_PARSERS.get(type);
  if (!parseTextFormat) {
    throw new DocumentParseError("unsupported", `Documents of type "${type}" are not supported.`);
  }
  return parseTextFormat(decodeText(bytes, { html: type === "html" }));
}
