import { describe, expect, it } from "vitest";
import { z } from "zod";
import "./plain-issues.js";

/** The message of the one issue `value` has against `schema`. */
function messageOf(schema: z.ZodType, value: unknown): string | undefined {
  const result = schema.safeParse(value);
  expect(result.success, JSON.stringify(value)).toBe(false);
  return result.error?.issues[0]?.message;
}

describe("zod's messages, in FineFlow's words", () => {
  it("says a field is missing, or of the wrong kind and what it is instead", () => {
    const body = z.object({ name: z.string(), count: z.number().int(), on: z.boolean() });
    expect(messageOf(body, { count: 1, on: true })).toBe("is required");
    expect(messageOf(body, { name: null, count: 1, on: true })).toBe("must be a string, not null");
    expect(messageOf(body, { name: "a", count: [1], on: true })).toBe("must be a number, not an array");
    expect(messageOf(body, { name: "a", count: 1.5, on: true })).toBe("must be a whole number, not 1.5");
    expect(messageOf(body, { name: "a", count: 1, on: "yes" })).toBe("must be true or false, not a string");
  });

  it("gives limits of text as characters, of lists as items, of numbers as numbers, with thousands marked", () => {
    expect(messageOf(z.string().max(2000), "x".repeat(2001))).toBe("must be at most 2,000 characters");
    expect(messageOf(z.string().min(8), "short")).toBe("must be at least 8 characters");
    expect(messageOf(z.string().min(1), "")).toBe("must not be empty");
    expect(messageOf(z.array(z.string()).min(1), [])).toBe("must not be empty");
    expect(messageOf(z.array(z.string()).max(1), ["a", "b"])).toBe("must hold at most 1 item");
    expect(messageOf(z.number().min(1), 0)).toBe("must be at least 1");
    expect(messageOf(z.number().max(10_000), 10_001)).toBe("must be at most 10,000");
    // Exclusive bounds say so: 0 itself is refused by `positive()`.
    expect(messageOf(z.number().positive(), 0)).toBe("must be more than 0");
    expect(messageOf(z.number().lt(1), 1)).toBe("must be less than 1");
    expect(messageOf(z.number().multipleOf(5), 7)).toBe("must be a multiple of 5");
  });

  it("lists the values a choice takes, names a format, and names fields a body should not have", () => {
    expect(messageOf(z.enum(["only", "exclude"]), "maybe")).toBe('must be one of "only", "exclude"');
    expect(messageOf(z.literal("yes"), "no")).toBe('must be "yes"');
    expect(messageOf(z.uuid(), "12")).toBe("must be a UUID");
    expect(messageOf(z.email(), "me")).toBe("must be an email address");
    expect(messageOf(z.strictObject({ a: z.string() }), { a: "x", b: 1, c: 2 })).toBe(
      'has no fields "b", "c"',
    );
  });

  it("leaves a message a schema gives of its own as it is", () => {
    expect(messageOf(z.string().max(3, "keep it short"), "long")).toBe("keep it short");
  });
});
