/**
 * Secrets and personal data in a training example: once trained on, a model can repeat them to anyone.
 * Findings are kinds ("email address"), never the matched text, because they end up in messages and logs.
 * The personal-data rules demand structure (a checksum, a card brand, a reserved-domain exclusion) so
 * that the numbers and addresses of ordinary documentation do not drown the real findings.
 */
import { secretKinds } from "../generation/pair-safety.js";

export interface SensitiveFindings {
  /** Kinds of credentials, as the pair safety filter names them ("OpenAI API key"). */
  secrets: string[];
  personalData: string[];
}

export function findSensitiveData(text: string): SensitiveFindings {
  return { secrets: secretKinds(text), personalData: personalDataKinds(text) };
}

// ---------------------------------------------------------------------------------------------------------
// Secrets

// ---------------------------------------------------------------------------------------------------------
// Personal data

function personalDataKinds(text: string): string[] {
  const kinds: string[] = [];
  if (hasEmailAddress(text)) kinds.push("email address");
  if (hasPhoneNumber(text)) kinds.push("phone number");
  if (hasIban(text)) kinds.push("IBAN");
  if (hasCardNumber(text)) kinds.push("payment card number");
  return kinds;
}

// Bounded repetition throughout, so matching stays linear whatever the text.
const EMAIL = /(?<![\w.%+-])[\w.%+-]{1,64}@((?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24})(?![\w-])/g;
/** RFC 2606 and 6761 reserve these for examples, and documentation uses them for exactly that. */
const RESERVED_DOMAIN = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)$/i;

function hasEmailAddress(text: string): boolean {
  if (!text.includes("@")) return false; // one fast scan; most texts have no address
  for (const match of text.matchAll(EMAIL)) {
    if (!RESERVED_DOMAIN.test(match[1] ?? "")) return true;
  }
  return false;
}

/**
 * Written the ways people write phone numbers: international (+49 30 1234567), with an area code in
 * parentheses ((030) 1234 5678), or North American 3-3-4 (555-123-4567). A bare run of digits is left
 * alone: it is far more often an id, an amount or a year.
 */
const PHONE_PATTERNS: readonly RegExp[] = [
  // One separator between groups, so a run of digits can be split into groups in only one way.
  /(?<![\w+])\+\d{1,3}(?:[ .-](?:\(\d{1,4}\) ?)?\d{1,8}){1,5}(?!\w)/g,
  /(?<![\w+])\+\d{8,15}(?!\w)/g,
  /(?<![\w)])\(\d{2,5}\)[ .-]?\d{3,4}[ .-]?\d{4}(?!\w)/g,
  /(?<![\w.-])\d{3}[ .-]\d{3}[ .-]\d{4}(?!\w|[.-]\d)/g,
];
const MIN_PHONE_DIGITS = 8;
const MAX_PHONE_DIGITS = 15;

/** Every phone pattern starts with "+digit" or "(digit", or holds three digits, a separator and three more. */
const PHONE_HINT = /[+(]\d|\d{3}[ .-]\d{3}/;

function hasPhoneNumber(text: string): boolean {
  if (!PHONE_HINT.test(text)) return false;
  for (const pattern of PHONE_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const digits = match[0].replace(/\D/g, "").length;
      if (digits >= MIN_PHONE_DIGITS && digits <= MAX_PHONE_DIGITS) return true;
    }
  }
  return false;
}

/** Printed in groups of four or run together; the mod-97 check rejects all but 1 in 97 look-alikes. */
const IBAN = /\b[A-Z]{2}\d{2}(?:(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?|[A-Z0-9]{11,30})\b/g;

function hasIban(text: string): boolean {
  for (const match of text.matchAll(IBAN)) {
    const iban = match[0].replace(/ /g, "");
    if (iban.length >= 15 && iban.length <= 34 && ibanChecksumValid(iban)) return true;
  }
  return false;
}

/** ISO 13616: move the first four characters to the end, read letters as 10–35, and the value mod 97 is 1. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = Number.parseInt(char, 36);
    if (Number.isNaN(value)) return false;
    remainder = (remainder * (value < 10 ? 10 : 100) + value) % 97;
  }
  return remainder === 1;
}

const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;

/** Issuer prefixes and lengths: a Luhn-valid run of digits alone is 1 in 10 of all runs. */
const CARD_BRANDS: readonly { prefix: RegExp; lengths: readonly number[] }[] = [
  { prefix: /^4/, lengths: [13, 16, 19] },
  { prefix: /^(?:5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))/, lengths: [16] },
  { prefix: /^3[47]/, lengths: [15] },
  { prefix: /^(?:6011|65|64[4-9])/, lengths: [16, 17, 18, 19] },
  { prefix: /^35(?:2[89]|[3-8]\d)/, lengths: [16, 17, 18, 19] },
  { prefix: /^3(?:0[0-5]|[689])/, lengths: [14, 15, 16, 17, 18, 19] },
];

/** The payment providers' published test numbers fill integration guides and are nobody's card. */
const TEST_CARDS: ReadonlySet<string> = new Set([
  "4242424242424242",
  "4111111111111111",
  "4000056655665556",
  "5555555555554444",
  "5105105105105100",
  "2223003122003222",
  "378282246310005",
  "371449635398431",
  "6011111111111117",
  "3530111333300000",
  "30569309025904",
]);

function hasCardNumber(text: string): boolean {
  for (const match of text.matchAll(CARD)) {
    const digits = match[0].replace(/[ -]/g, "");
    if (TEST_CARDS.has(digits)) continue;
    const branded = CARD_BRANDS.some((b) => b.prefix.test(digits) && b.lengths.includes(digits.length));
    if (branded && luhnValid(digits)) return true;
  }
  return false;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
