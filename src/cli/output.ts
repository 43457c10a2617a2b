/** Output helpers: machine-readable JSON for `--json`, aligned columns for people. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(rows: Record<string, string>[], empty: string): void {
  process.stdout.write(`${formatTable(rows) ?? empty}\n`);
}

/** Text on one line, cut to `length` characters ("..." included) when longer: a table cell's preview. */
export function excerpt(text: string, length = 60): string {
  const line = text.replace(/\s+/g, " ").trim();
  const characters = Array.from(line);
  return characters.length > length ? `${characters.slice(0, length - 3).join("")}...` : line;
}

const CONTROL = /\p{Cc}/gu;
const SHORT_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text for one line of a terminal: its control characters written as escapes (`\n`, `\t`, `\u001b`). A file
 * may be named with a newline or tab in it, or a terminal's escape sequence; printed raw, it split its line
 * or row in two, pushed the columns after it out of line, or was obeyed by the terminal. JSON keeps them.
 */
export function printable(text: string): string {
  return text.replace(
    CONTROL,
    (c) => SHORT_ESCAPES[c] ?? `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, "0")}`,
  );
}

/** Rows as columns under upper-case headers, each as wide as its widest cell; undefined for no rows. */
export function formatTable(rows: Record<string, string>[]): string | undefined {
  const first = rows[0];
  if (!first) return undefined;
  const columns = Object.keys(first);
  const cells = rows.map((r) => columns.map((c) => printable(r[c] ?? "")));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => displayWidth(row[i] ?? ""))));
  const pad = (cell: string, width: number) => cell + " ".repeat(width - displayWidth(cell));
  const line = (row: string[]) =>
    row
      .map((cell, i) => pad(cell, widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join("\n");
}

const MARK = /\p{M}/u;

/**
 * No column of its own: combining marks, zero-width spaces and joiners, variation selectors, and the
 * vowel and final jamo of a Hangul syllable written decomposed (as macOS names files).
 */
const isZeroWidth = (character: string, code: number) =>
  MARK.test(character) ||
  (code >= 0x200b && code <= 0x200f) ||
  (code >= 0xfe00 && code <= 0xfe0f) ||
  (code >= 0x1160 && code <= 0x11ff);

/**
 * The columns a string takes in a terminal: a Chinese, Japanese or Korean character, a full-width form or
 * an emoji two, a combining mark or joiner none, anything else one (terminals differ on some emoji).
 * Padded by its length instead, a document named in Japanese pushed every column after it out of line.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const character of text) {
    const code = character.codePointAt(0) as number;
    if (!isZeroWidth(character, code)) width += isWide(code) ? 2 : 1;
  }
  return width;
}

/** East Asian Wide and Fullwidth (Unicode's EastAsianWidth W and F), by block. */
function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) || // Hangul Jamo leading consonants
    (code >= 0x2e80 && code <= 0x303e) || // CJK radicals, symbols and punctuation
    (code >= 0x3041 && code <= 0x33ff) || // kana, CJK compatibility
    (code >= 0x3400 && code <= 0x4dbf) || // CJK Extension A
    (code >= 0x4e00 && code <= 0x9fff) || // CJK Unified Ideographs
    (code >= 0xa000 && code <= 0xa4cf) || // Yi
    (code >= 0xac00 && code <= 0xd7a3) || // Hangul syllables
    (code >= 0xf900 && code <= 0xfaff) || // CJK Compatibility Ideographs
    (code >= 0xfe30 && code <= 0xfe4f) || // CJK compatibility forms
    (code >= 0xff00 && code <= 0xff60) || // full-width forms
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) || // emoji
    (code >= 0x1f680 && code <= 0x1f6ff) ||
    (code >= 0x1f900 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd) // CJK Extension B and later
  );
}

/** A name as a shell word, for a command printed to copy: quoted when it holds spaces or the like. */
export function shellWord(text: string): string {
  return /^[\w.@%+=:,/-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
