import { z } from "@hono/zod-openapi";

/** A number as a person writes one in a URL (".5" and "5." too): "0x10", "1e3" or " " are not. */
const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * A query parameter that holds a number, checked by `schema` once read. `z.coerce.number()` took "" for
 * 0 (`minQuality=` filtered nothing, silently), "0x10" for 16, and a parameter given twice for NaN
 * ("expected number, received NaN"). Here an empty one counts as absent, so its default applies, and
 * anything but one decimal number is refused, saying what was expected.
 */
export function queryNumber<T extends z.ZodType>(schema: T) {
  return z.preprocess((value, ctx) => {
    if (value === "" || value === undefined) return undefined;
    if (typeof value === "string" && DECIMAL.test(value)) return Number(value);
    const message = Array.isArray(value) ? "give it once" : "must be a number, written in decimal";
    ctx.issues.push({ code: "custom", message, input: value });
    return value;
  }, schema);
}
