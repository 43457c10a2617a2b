import mammoth from "mammoth";
import type { Block } from "../core/blocks.js";
import { topHeadingLevel } from "../core/chunk-blocks.js";
import { DocumentParseError } from "./document-parse-error.js";
import { parseHtml } from "./parse-html.js";

// An OLE compound file, not a zip: either Office's password wrapper or a legacy .doc renamed to .docx.
const COMPOUND_FILE_SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
// The stream an encrypted Office document keeps its real (zipped) content in; directory names are UTF-16LE.
const ENCRYPTED_PACKAGE = Buffer.from("EncryptedPackage", "utf16le");

// Word's built-in Title style names the document, a top-level heading; mammoth maps only Heading 1–6. Heading
// 1 stays level 1 beside it: nested under the title, every chunk's heading path would repeat it, and Heading 6
// would have no level left. A Subtitle is text under the title.
const STYLE_MAP = ["p[style-name='Title'] => h1:fresh"];

// Mammoth writes footnotes and endnotes after the body, as one list numbered as their references are ("[1]"),
// with these ids on its items. Text never matches: mammoth escapes its "<".
const NOTES_LIST = /<ol><li id="(?:footnote|endnote)-/;
const NOTES_HEADING = "Notes";

/** DOCX through mammoth's HTML, so headings, lists and tables reach the same rules as an HTML upload. */
export async function parseDocx(bytes: Uint8Array): Promise<Block[]> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (COMPOUND_FILE_SIGNATURE.every((byte, i) => buffer[i] === byte)) throw compoundFileError(buffer);
  return withNotesSection(await convertToHtml(buffer));
}

/**
 * The notes, under a heading of their own at the document's top level: after the body, they would be read
 * as the last section's text, and a chunk would mix them with it.
 */
function withNotesSection(html: string): Block[] {
  const notesStart = html.search(NOTES_LIST);
  if (notesStart < 0) return parseHtml(html, { chrome: false });
  const body = parseHtml(html.slice(0, notesStart), { chrome: false });
  const notes = parseHtml(html.slice(notesStart), { chrome: false });
  // At the body's top level: a notes heading above it would make the body's sections one section.
  const top = topHeadingLevel(body);
  const level = Number.isFinite(top) ? top : 1;
  return [...body, { kind: "heading", level, text: NOTES_HEADING }, ...notes];
}

async function convertToHtml(buffer: Buffer): Promise<string> {
  try {
    return (await mammoth.convertToHtml({ buffer }, { styleMap: STYLE_MAP })).value;
  } catch {
    throw new DocumentParseError(
      "corrupt",
      "This DOCX file is damaged or is not a Word document; open it in Word, save it again as .docx and upload the new file.",
    );
  }
}

function compoundFileError(buffer: Buffer): DocumentParseError {
  if (buffer.includes(ENCRYPTED_PACKAGE)) {
    return new DocumentParseError(
      "encrypted",
      "This Word document is password-protected; remove the password and upload it again.",
    );
  }
  return new DocumentParseError(
    "unsupported",
    "This is an old-format Word document (.doc); open it in Word, save it as .docx and upload it again.",
  );
}
