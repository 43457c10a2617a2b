import { DocumentParseError } from "./document-parse-error.js";
import { legacyCharset } from "./legacy-charset.js";

// Not fatal: a stray invalid byte should cost one U+FFFD, not the whole upload.
const utf8 = new TextDecoder("utf-8");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

type Decode = (bytes: Uint8Array) => string;

// What Windows' Western code page has at 0x80–0x9F, where ISO-8859-1 has control characters: the WHATWG
// Encoding Standard's index (the five bytes it leaves as controls stay so).
const WINDOWS_1252_HIGH = Array.from(
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
    "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178",
);

/**
 * Windows-1252, which browsers also read for "ISO-8859-1" and "latin1". Not by TextDecoder: Node 20.18.3 and
 * later decode it as ISO-8859-1, so curly quotes, dashes and "€" came out as invisible control characters
 * (nodejs/node#60888).
 */
const fromWindows1252: Decode = (bytes) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString("latin1")
    .replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80] as string);

/**
 * Bytes of a text format to a string with "\n" line ends, decoded by the first of:
 * - a byte order mark (Windows editors still save "Unicode" text as UTF-16 with one);
 * - UTF-16 without one, as some Windows tools and exports write it (`unmarkedUtf16`);
 * - for `html`, the charset the page declares (`<meta charset>`), when it names one TextDecoder knows, as a
 *   page saved from an older site in Shift_JIS or windows-1251 does;
 * - UTF-8, when the bytes are UTF-8, or mostly are (a stray invalid byte then costs one U+FFFD);
 * - the non-Western legacy charset the text reads as (`legacyCharset`: Japanese, Chinese, Korean, Central
 *   European, Cyrillic, Greek…), as editors on those systems saved it;
 * - Windows-1252 otherwise: text an older Windows editor saved, "café" with é as the one byte E9, which as
 *   UTF-8 became "caf\uFFFD" in every chunk.
 */
export function decodeText(bytes: Uint8Array, { html = false } = {}): string {
  return decode(bytes, html).replace(/\r\n?/g, "\n");
}

function decode(bytes: Uint8Array, html: boolean): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return utf8.decode(bytes);
  refuseKnownFormat(bytes);
  const unmarked = unmarkedUtf16(bytes);
  // A stray last byte is no character: left out rather than read as U+FFFD.
  if (unmarked) return new TextDecoder(unmarked).decode(bytes.subarray(0, bytes.length & ~1));
  refuseControls(bytes);
  const declared = html ? declaredDecoder(bytes) : undefined;
  if (declared) return declared(bytes);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    if (mostlyUtf8(bytes)) return utf8.decode(bytes);
    const charset = legacyCharset(bytes);
    return charset ? new TextDecoder(charset).decode(bytes) : fromWindows1252(bytes);
  }
}

// Where browsers look for it (the HTML standard's prescan): a <meta> in the first 1024 bytes, as
// <meta charset="x"> or <meta http-equiv="Content-Type" content="text/html; charset=x">.
const META_CHARSET = /<meta\b[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)/i;

function declaredDecoder(bytes: Uint8Array): Decode | undefined {
  const label = META_CHARSET.exec(fromWindows1252(bytes.subarray(0, 1024)))?.[1];
  if (!label) return undefined;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    return undefined; // a label TextDecoder does not know: the bytes decide
  }
  if (decoder.encoding === "windows-1252") return fromWindows1252;
  // The bytes decide, which read UTF-8 first: a page saying UTF-8 but saved in a Windows code page (an
  // editor that kept the template's <meta>) lost every accented letter to U+FFFD; and a page whose <meta>
  // could be read as ASCII is not UTF-16, whatever it says.
  if (decoder.encoding === "utf-8" || decoder.encoding.startsWith("utf-16")) return undefined;
  return (page) => decoder.decode(page);
}

/**
 * Whether bytes that are not valid UTF-8 still hold more well-formed UTF-8 sequences than stray bytes: UTF-8
 * with a few damaged bytes, rather than a single-byte code page, whose accented letters are lone high bytes.
 */
function mostlyUtf8(bytes: Uint8Array): boolean {
  let sequences = 0;
  let strays = 0;
  for (let i = 0; i < bytes.length; i++) {
    const lead = bytes[i] as number;
    if (lead < 0x80) continue;
    const length = lead >= 0xf5 ? 0 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
    let end = i + 1;
    while (end < i + length && ((bytes[end] as number) & 0xc0) === 0x80) end++;
    if (length > 0 && end === i + length) {
      sequences++;
      i = end - 1;
    } else {
      strays++;
    }
  }
  return sequences > strays;
}

/**
 * UTF-16 saved without a byte order mark, told by its zero bytes: the high byte of every ASCII character
 * (spaces, line ends, digits and punctuation in any script's text), on one side of each pair only. Text in a
 * byte-oriented charset has no zero bytes; as UTF-8 (which accepts them) such a file read as its
 * characters with NULs between them, and lost its structure ("#\0 \0G\0u\0i\0d\0e\0" is no heading).
 */
function unmarkedUtf16(bytes: Uint8Array): "utf-16le" | "utf-16be" | undefined {
  // Whole pairs: a file may end in a stray byte (a newline added by another editor, or a cut).
  const sample = bytes.subarray(0, Math.min(bytes.length, 4096 * 2) & ~1);
  let even = 0;
  let odd = 0;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] === 0) i % 2 ? odd++ : even++;
  }
  const pairs = Math.floor(sample.length / 2);
  // A fifth of the characters at least: below that, zero bytes are more likely damage than encoding.
  if (pairs < 2 || Math.max(even, odd) < pairs / 5 || Math.min(even, odd) > Math.max(even, odd) / 20) {
    return undefined;
  }
  const label = odd > even ? "utf-16le" : "utf-16be";
  let text: string;
  try {
    text = new TextDecoder(label, { fatal: true }).decode(sample, { stream: true });
  } catch {
    return undefined; // unpaired surrogates: not UTF-16 after all
  }
  // Binary data of 16-bit numbers has the same zero bytes; as characters, it is full of controls.
  const codes = Array.from(text, (character) => character.charCodeAt(0));
  return isMostlyControls(codes) ? undefined : label;
}

function image(format: string): string {
  return `a ${format} image, and FineFlow reads no text from images`;
}

/** What files most often are when given a text extension by mistake, by their first bytes. */
const SIGNATURES: [start: string, what: string][] = [
  ["%PDF-", "a PDF: give it the .pdf extension"],
  [
    "PK\x03\x04",
    "a ZIP archive, as Word, Excel and PowerPoint files are: give a Word file the .docx extension",
  ],
  ["\x1f\x8b", "compressed with gzip: decompress it first"],
  ["\xd0\xcf\x11\xe0", "an older Office file (.doc, .xls): save it as .docx from Word"],
  ["\x89PNG\r\n\x1a\n", image("PNG")],
  ["\xff\xd8\xff", image("JPEG")],
  ["GIF87a", image("GIF")],
  ["GIF89a", image("GIF")],
  ["II*\x00", image("TIFF")],
  ["MM\x00*", image("TIFF")],
];

/** Refuses a known binary format by its first bytes (UTF-16's zero bytes must not be mistaken for one). */
function refuseKnownFormat(bytes: Uint8Array): void {
  const start = String.fromCharCode(...bytes.subarray(0, 8));
  const known = SIGNATURES.find(([signature]) => start.startsWith(signature));
  if (known) throw new DocumentParseError("unsupported", `This file is not text: it is ${known[1]}.`);
}

/**
 * Refuses bytes with many control characters: in the first 8 KiB, over 3% of the bytes. About 10% of random
 * or compressed bytes are, and text has next to none (tabs, line ends, form feeds, a terminal's bells,
 * backspaces and escapes are not counted). Read as text, such a file became chunks of byte soup that scored like
 * prose.
 */
function refuseControls(bytes: Uint8Array): void {
  // Without the zero bytes a fixed-width export pads its end with.
  let end = Math.min(bytes.length, 8192);
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (isMostlyControls(bytes.subarray(0, end))) {
    throw new DocumentParseError(
      "unsupported",
      "This file is not text: it holds binary data (an image, an archive or a program). Upload the document itself.",
    );
  }
}

/** Whether over 3% of these bytes or characters (16 at least) are controls no text has. */
function isMostlyControls(codes: ArrayLike<number>): boolean {
  let controls = 0;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    if (code === 0x7f || (code < 0x20 && !TEXT_CONTROLS.has(code))) controls++;
  }
  return controls >= 16 && controls > codes.length * 0.03;
}

/**
 * Bell and backspace (a terminal's log, `man`'s overstrike), tab, line feed, vertical tab, form feed,
 * carriage return, escape (coloured logs).
 */
const TEXT_CONTROLS = new Set([0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b]);
