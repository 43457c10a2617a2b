import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import { seededRandom } from "./random.js";
import { countChatTokens, countO200kTokens } from "./tokens.js";

const plainCount = (text: string) => encode(text, { disallowedSpecial: new Set() }).length;
const chat = (system: string, user: string) => [
  { role: "system" as const, content: system },
  { role: "user" as const, content: user },
  { role: "assistant" as const, content: "Yes." },
];
/** 3 per example, and per message 3 plus its role's tokens (one each) plus its content's. */
const expected = (system: string, user: string) =>
  3 + 3 * 4 + plainCount(system) + plainCount(user) + plainCount("Yes.");

describe("countChatTokens", () => {
  it("counts text that looks like a special token as ordinary characters instead of refusing it", () => {
    const user = "Why does my prompt end with <|endoftext|> and <|im_start|>?";
    expect(countChatTokens(chat("Be brief.", user))).toBe(expected("Be brief.", user));
    expect(plainCount("<|endoftext|>")).toBeGreaterThan(1);
  });

  it("counts a new system prompt anew after a run of examples that shared another", () => {
    for (let i = 0; i < 3; i++)
      expect(countChatTokens(chat("Be brief.", `Q${i}?`))).toBe(expected("Be brief.", `Q${i}?`));
    const longer = "Be brief, and answer only from the documentation you were given.";
    expect(countChatTokens(chat(longer, "Q?"))).toBe(expected(longer, "Q?"));
    expect(countChatTokens(chat("Be brief.", "Q?"))).toBe(expected("Be brief.", "Q?"));
  });
});

describe("countO200kTokens", () => {
  // Everything the o200k split treats differently: cases, digits, contractions, punctuation runs, every kind
  // of whitespace and line break, combining marks, CJK, emoji, right-to-left text, special-token look-alikes.
  const PARTS = [
    "the",
    " The",
    "THE",
    "tHe",
    "don't",
    "DON'T",
    "it's",
    "'S",
    "'ll",
    "123456",
    " 42",
    "3.14",
    "…",
    "—",
    "!!",
    "?!",
    "/",
    "//",
    "::",
    "->",
    "{ }",
    "()",
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    " \n ",
    "\u00a0",
    "\u3000",
    "e\u0301",
    "naïve",
    "日本語",
    "中文文本",
    "😀",
    "👩‍💻",
    "🇫🇷",
    "مرحبا",
    "שלום",
    "\u200b",
    "<|endoftext|>",
    "<|im_start|>",
    "kaloren",
    "torvelshi",
    "```ts",
    "| a | b |",
    "- item",
    "# Title",
  ];

  it("counts exactly what gpt-tokenizer counts, on thousands of texts built to be awkward", () => {
    const next = seededRandom(7);
    for (let i = 0; i < 4000; i++) {
      const text = Array.from(
        { length: 1 + Math.floor(next() * 12) },
        () => PARTS[Math.floor(next() * PARTS.length)],
      ).join(next() < 0.5 ? "" : " ");
      expect(countO200kTokens(text), JSON.stringify(text)).toBe(plainCount(text));
    }
  });

  it("counts the empty text as nothing and a long document as the tokenizer does", () => {
    expect(countO200kTokens("")).toBe(0);
    const document = Array.from(
      { length: 300 },
      (_, i) => `Step ${i}: run \`fineflow ingest\` again.\n`,
    ).join("");
    expect(countO200kTokens(document)).toBe(plainCount(document));
    expect(countO200kTokens(document)).toBe(plainCount(document)); // from the memo this time
  });
});
