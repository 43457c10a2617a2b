import mammoth from "mammoth";
import type { Block } from "../core/blocks.js";
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

/** DOCX through mammoth's HTML, so headings, lists and tables reach the same rules as an HTML upload. */
export async function parseDocx(bytes: Uint8Array): Promise<Block[]> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (COMPOUND_FILE_SIGNATURE.every((byte, i) => buffer[i] === byte)) throw compoundFileError(buffer);
  return parseHtml(await convertToHtml(buffer), { chrome: false });
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
