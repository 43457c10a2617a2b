import { InvalidArgumentError } from "commander";

/** Flag parsers: a bad value stops the command with a message naming what was expected. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError("must be a whole number from 0 to 65535.");
  }
  return port;
}

/** `none` stays a word: commander takes a parser's null for "no value" and passes "" on. */
export function parseUsd(value: string): number | "none" {
  if (value === "none") return value;
  const amount = Number(value);
  if (value.trim() === "" || !Number.isFinite(amount) || amount < 0) {
    throw new InvalidArgumentError(
      "must be an amount of US dollars, 0 or more (e.g. 50 or 12.5), or `none`.",
    );
  }
  return amount;
}

/** Digits only: Number() also reads "0x10" as 16 and "1e2" as 100, which nobody means by a count. */
const DIGITS = /^\s*\d+\s*$/;

/**
 * A parser for a whole number from `min` (to `max`): ranges the API takes come from core's `RANGES`, so the
 * flag refuses what the API would, before anything is sent.
 */
export function wholeNumberFlag({ min, max }: { min: number; max?: number }) {
  const expected =
    max === undefined ? `a whole number, ${min} or more` : `a whole number from ${min} to ${max}`;
  return (value: string): number => {
    const number = Number(value);
    if (!DIGITS.test(value) || number < min || (max !== undefined && number > max)) {
      throw new InvalidArgumentError(`must be ${expected}.`);
    }
    return number;
  };
}

/** A parser for a number from `min` to `max`, as `wholeNumberFlag`. */
export function numberFlag({ min, max }: { min: number; max: number }) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === "" || !(number >= min && number <= max)) {
      throw new InvalidArgumentError(`must be a number from ${min} to ${max}.`);
    }
    return number;
  };
}

export const parseWholeNumber = wholeNumberFlag({ min: 0 });
export const parseFraction = numberFlag({ min: 0, max: 1 });
/** A page's size, as the API takes it (1–500). */
export const parsePageSize = wholeNumberFlag({ min: 1, max: 500 });

/** A rate or multiplier: any finite number above 0 (whether the provider takes it is the API's to say). */
export function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError("must be a number above 0 (e.g. 0.0001 or 2).");
  }
  return number;
}

/** A comma-separated list, blanks between commas dropped: `a,,b,` is `a` and `b`, and `,` is refused. */
export function parseList(value: string): string[] {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) throw new InvalidArgumentError("must name at least one, comma-separated.");
  return items;
}
