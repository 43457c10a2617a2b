/**
 * Whether a UTF-16 code unit is a letter of a script written without spaces between words — Chinese
 * characters, Japanese kana, Thai — where, for want of a dictionary to find the words, each letter counts
 * as a word of its own. By code unit, as callers read text one code unit at a time; the rare characters
 * beyond the Basic Multilingual Plane are left out. Callers that need letters only ask about letters: the
 * Thai block also holds its vowel marks and digits.
 */
export function isUnspacedLetter(code: number): boolean {
  return (
    (code >= 0x0e00 && code <= 0x0e7f) || // Thai
    (code >= 0x3040 && code <= 0x30ff) || // Hiragana and Katakana
    (code >= 0x3400 && code <= 0x4dbf) || // CJK Unified Ideographs Extension A
    (code >= 0x4e00 && code <= 0x9fff) || // CJK Unified Ideographs
    (code >= 0xf900 && code <= 0xfaff) || // CJK Compatibility Ideographs
    (code >= 0xff66 && code <= 0xff9f) // half-width Katakana
  );
}
