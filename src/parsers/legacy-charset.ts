import { analyse } from "chardet";

/**
 * Which legacy charset, if any, a text that is not UTF-8 was saved in, of those editors on non-Western
 * systems saved plain text in without a byte order mark or any label: Japanese, Chinese and Korean
 * (Shift_JIS, EUC-JP, GB18030, Big5, EUC-KR), Central European (Windows-1250, ISO-8859-2), Baltic, Cyrillic
 * (Windows-1251, KOI8-R, ISO-8859-5), Greek, Turkish, Hebrew, Arabic, Thai and Vietnamese. Read as
 * Windows-1252 instead, every character became one or two accented Latin letters ("Zaøó³æ gêœl¹").
 *
 * Told by chardet, ICU's detector: it scores each charset by how well the decoded text matches the
 * frequent characters (double-byte charsets) or letter triples (single-byte ones) of the languages written
 * in it. Undefined when Western European text ranks first, which the caller reads as Windows-1252.
 */
export function legacyCharset(bytes: Uint8Array): string | undefined {
  const sample = bytes.subarray(0, SAMPLE_BYTES);
  if (highBytes(sample) < MIN_HIGH_BYTES) return undefined;
  for (const { name, lang, confidence } of analyse(sample)) {
    // chardet's floor: bytes that decode in a double-byte charset, with nothing more to say for it.
    if (confidence <= NO_EVIDENCE) continue;
    if (WESTERN.has(name)) return undefined;
    if (name === "ISO-8859-7") return greekCharset(sample);
    if (name === "ISO-8859-2" && lang === "pl") return polishCharset(sample);
    const label = decoderLabel(DECODE_AS[name] ?? name);
    if (label) return label;
  }
  return undefined;
}

/**
 * Below this many bytes over 0x7F, chardet's guesses are noise: "Größe" came out as Shift_JIS, "Citroën"
 * as Baltic, a short record of Spanish names as Central European. Such a short text stays Windows-1252,
 * the more likely charset and the smaller loss when wrong; a document in a non-Western language has more.
 */
const MIN_HIGH_BYTES = 12;
const NO_EVIDENCE = 10;

function highBytes(sample: Uint8Array): number {
  let count = 0;
  for (const byte of sample) if (byte >= 0x80) count++;
  return count;
}

/**
 * chardet names Windows-1253 only when bytes 0x80–0x9F occur, and the two Greek charsets put Ά apart: A2 in
 * Windows-1253, where ISO-8859-7 has a quotation mark, and B6 in ISO-8859-7. Ά begins many a sentence and
 * heading ("Άρθρο 1", article 1): the byte followed by Greek letters is it.
 */
const greekCharset = (sample: Uint8Array) =>
  windowsOrIso(sample, ["windows-1253", 0xa2], ["iso-8859-7", 0xb6], (next) => next >= 0xc1 && next <= 0xfe);

/**
 * chardet names Windows-1250 only when bytes 0x80–0x9F occur, as Polish text without ś, ź or „” need not
 * have; its ą is B9 there, and B1 in ISO-8859-2, where B9 is š, a letter Polish has not.
 */
const polishCharset = (sample: Uint8Array) =>
  windowsOrIso(sample, ["windows-1250", 0xb9], ["iso-8859-2", 0xb1], () => true);

/**
 * Of a Windows code page and the ISO one it mostly agrees with, the one whose byte for a telling letter the
 * sample has more of (counting only where `before` accepts the next byte); the ISO one on a tie.
 */
function windowsOrIso(
  sample: Uint8Array,
  [windowsLabel, windowsByte]: [string, number],
  [isoLabel, isoByte]: [string, number],
  before: (next: number) => boolean,
): string {
  let windows = 0;
  let iso = 0;
  for (let i = 0; i < sample.length; i++) {
    if (!before(sample[i + 1] ?? -1)) continue;
    if (sample[i] === windowsByte) windows++;
    else if (sample[i] === isoByte) iso++;
  }
  return windows > iso ? windowsLabel : isoLabel;
}

/** Enough to tell the charset: the rest of a long text would only make the guess slower. */
const SAMPLE_BYTES = 64 * 1024;

/** Text the caller reads as Windows-1252, the superset of ISO-8859-1 that Windows editors wrote. */
const WESTERN = new Set(["ASCII", "ISO-8859-1", "windows-1252"]);

/**
 * Where Windows' code page is a superset of the ISO one chardet names (it names the Windows one only when
 * bytes 0x80–0x9F occur): Hebrew text with vowel points read as ISO-8859-8 lost them. ISO-8859-9 needs no
 * entry: TextDecoder reads it as Windows-1254 already.
 */
const DECODE_AS: Record<string, string> = { "ISO-8859-8": "windows-1255" };

/**
 * TextDecoder's own name for a charset, unless it is Unicode without a byte order mark or ISO-2022 (not
 * what bytes that failed as UTF-8 are) or one TextDecoder does not know.
 */
function decoderLabel(name: string): string | undefined {
  if (name.startsWith("UTF") || name.startsWith("ISO-2022")) return undefined;
  try {
    return new TextDecoder(name).encoding;
  } catch {
    return undefined;
  }
}
