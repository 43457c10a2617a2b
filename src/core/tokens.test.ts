import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import { countChatTokens } from "./tokens.js";

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
