import { describe, expect, it } from "vitest";
import { type ParseOutcome, parseGeneratedPairs, sanitizeModelText } from "./parse-generated.js";
import type { PairMessage } from "./types.js";

const QA = { role: "user", content: "What do chloroplasts do?" };
const ANSWER = { role: "assistant", content: "They turn light energy into chemical energy." };

function exchanges(count: number): PairMessage[] {
  return Array.from({ length: count }, (_, i) => [
    { role: "user" as const, content: `Question ${i + 1}?` },
    { role: "assistant" as const, content: `Answer ${i + 1}.` },
  ]).flat();
}

function json(mode: string | undefined, pairs: unknown[]): string {
  return JSON.stringify(mode === undefined ? { pairs } : { mode, pairs });
}

function expectOk(outcome: ParseOutcome): Extract<ParseOutcome, { ok: true }> {
  if (!outcome.ok) throw new Error(`expected success, got: ${outcome.reason}`);
  return outcome;
}

function reasonOf(outcome: ParseOutcome): string {
  if (outcome.ok) throw new Error("expected a rejection");
  return outcome.reason;
}

const CANONICAL = json("qa", [{ messages: [QA, ANSWER] }]);
const EXPECTED_PAIR = { mode: "qa", messages: [QA, ANSWER] };

describe("parseGeneratedPairs: accepted shapes", () => {
  it("reads the canonical shape", () => {
    expect(parseGeneratedPairs(CANONICAL, "qa")).toEqual({ ok: true, mode: "qa", pairs: [EXPECTED_PAIR] });
  });

  it("reads JSON inside a code fence", () => {
    expect(expectOk(parseGeneratedPairs(`\`\`\`json\n${CANONICAL}\n\`\`\``, "qa")).pairs).toEqual([
      EXPECTED_PAIR,
    ]);
    expect(
      expectOk(parseGeneratedPairs(`Here you go:\n\`\`\`\n${CANONICAL}\n\`\`\`\nDone.`, "qa")).pairs,
    ).toHaveLength(1);
  });

  it("reads JSON between prose, skipping bracketed prose that is not pairs", () => {
    const raw = `Sure [1]! Here are the pairs {as requested}:\n${CANONICAL}\nLet me know if you need more.`;
    expect(expectOk(parseGeneratedPairs(raw, "qa")).pairs).toEqual([EXPECTED_PAIR]);
  });

  it("reads question/answer objects", () => {
    const raw = JSON.stringify({ pairs: [{ question: QA.content, answer: ANSWER.content }] });
    expect(expectOk(parseGeneratedPairs(raw, "qa")).pairs).toEqual([EXPECTED_PAIR]);
  });

  it("reads instruction/response objects, alpaca's input and output included", () => {
    const raw = JSON.stringify({
      pairs: [
        { instruction: "List the steps to restart the server.", response: "1. Stop it. 2. Start it." },
        { instruction: "Translate this.", input: "Bonjour", output: "Hello" },
      ],
    });
    const outcome = expectOk(parseGeneratedPairs(raw, "auto"));
    expect(outcome.mode).toBe("instruction");
    expect(outcome.pairs[1]?.messages).toEqual([
      { role: "user", content: "Translate this.\n\nBonjour" },
      { role: "assistant", content: "Hello" },
    ]);
  });

  it("reads a bare array of pairs, and a bare array of messages as one pair", () => {
    const pairs = JSON.stringify([{ question: "Q?", answer: "A." }, { messages: [QA, ANSWER] }]);
    expect(expectOk(parseGeneratedPairs(pairs, "qa")).pairs).toHaveLength(2);
    expect(expectOk(parseGeneratedPairs(JSON.stringify([QA, ANSWER]), "qa")).pairs).toEqual([EXPECTED_PAIR]);
  });

  it("reads ShareGPT-style from/value messages", () => {
    const raw = JSON.stringify({
      conversations: [
        { from: "human", value: "Q1?" },
        { from: "gpt", value: "A1." },
        { from: "human", value: "Q2?" },
        { from: "gpt", value: "A2." },
      ],
    });
    const outcome = expectOk(parseGeneratedPairs(raw, "conversation"));
    expect(outcome.pairs[0]?.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
  });

  it("repairs trailing commas and raw line breaks in strings, and unwraps JSON sent as a string", () => {
    const sloppy = '{"mode": "qa", "pairs": [{"question": "Q?", "answer": "Line one\nline two",},],}';
    expect(expectOk(parseGeneratedPairs(sloppy, "qa")).pairs[0]?.messages[1]?.content).toBe(
      "Line one\nline two",
    );
    expect(expectOk(parseGeneratedPairs(JSON.stringify(CANONICAL), "qa")).pairs).toEqual([EXPECTED_PAIR]);
  });

  it("accepts conversations of 2–4 exchanges", () => {
    for (const count of [2, 3, 4]) {
      const outcome = expectOk(
        parseGeneratedPairs(json("conversation", [{ messages: exchanges(count) }]), "conversation"),
      );
      expect(outcome.pairs[0]?.messages).toHaveLength(count * 2);
    }
  });

  it("takes the model's choice in auto mode, and infers it from the turns when missing", () => {
    const chosen = expectOk(parseGeneratedPairs(json("Conversation", [{ messages: exchanges(2) }]), "auto"));
    expect(chosen.mode).toBe("conversation");
    expect(chosen.pairs[0]?.mode).toBe("conversation");
    expect(expectOk(parseGeneratedPairs(json(undefined, [{ messages: exchanges(3) }]), "auto")).mode).toBe(
      "conversation",
    );
  });

  it("uses the requested mode when the model does not say", () => {
    expect(
      expectOk(parseGeneratedPairs(json(undefined, [{ messages: exchanges(1) }]), "instruction")).mode,
    ).toBe("instruction");
  });

  it("accepts an empty list (an excerpt with nothing to ask about)", () => {
    expect(parseGeneratedPairs(json("qa", []), "qa")).toEqual({ ok: true, mode: "qa", pairs: [] });
  });

  it("sanitises every message", () => {
    const raw = json("qa", [
      {
        messages: [
          { role: "user", content: " What is <b>ATP</b>?\u200b " },
          { role: "assistant", content: "An energy carrier.\u202e" },
        ],
      },
    ]);
    expect(expectOk(parseGeneratedPairs(raw, "qa")).pairs[0]?.messages).toEqual([
      { role: "user", content: "What is ATP?" },
      { role: "assistant", content: "An energy carrier." },
    ]);
  });
});

describe("parseGeneratedPairs: rejections", () => {
  it("names a wrong role and where it is", () => {
    const wrong = [
      QA,
      { ...ANSWER },
      { role: "user", content: "More?" },
      { role: "user", content: "Again?" },
    ];
    const raw = json("conversation", [{ messages: exchanges(2) }, { messages: wrong }]);
    expect(reasonOf(parseGeneratedPairs(raw, "conversation"))).toBe(
      'pairs[1].messages[3].role: expected assistant, got "user"',
    );
    const system = json("qa", [{ messages: [{ role: "system", content: "Be nice." }, QA, ANSWER] }]);
    expect(reasonOf(parseGeneratedPairs(system, "qa"))).toBe(
      'pairs[0].messages[0].role: expected user, got "system"',
    );
  });

  it("rejects a pair ending with the user", () => {
    expect(reasonOf(parseGeneratedPairs(json("qa", [{ messages: [QA] }]), "qa"))).toBe(
      "pairs[0].messages: must end with an assistant message",
    );
  });

  it("rejects too many turns for the mode", () => {
    expect(reasonOf(parseGeneratedPairs(json("qa", [{ messages: exchanges(2) }]), "qa"))).toBe(
      "pairs[0].messages: qa pairs have exactly 1 exchange, got 2",
    );
    expect(
      reasonOf(parseGeneratedPairs(json("conversation", [{ messages: exchanges(5) }]), "conversation")),
    ).toBe("pairs[0].messages: conversation pairs have 2–4 exchanges, got 5");
    expect(
      reasonOf(parseGeneratedPairs(json("conversation", [{ messages: exchanges(1) }]), "conversation")),
    ).toBe("pairs[0].messages: conversation pairs have 2–4 exchanges, got 1");
  });

  it("rejects content that is empty once sanitised", () => {
    const raw = json("qa", [{ messages: [QA, { role: "assistant", content: " <p>\u200b</p> " }] }]);
    expect(reasonOf(parseGeneratedPairs(raw, "qa"))).toBe(
      "pairs[0].messages[1].content: empty after sanitising",
    );
  });

  it("rejects a mode other than the requested one, or an unknown one", () => {
    expect(reasonOf(parseGeneratedPairs(json("instruction", [{ messages: exchanges(1) }]), "qa"))).toBe(
      'mode: expected "qa", got "instruction"',
    );
    expect(reasonOf(parseGeneratedPairs(json("faq", [{ messages: exchanges(1) }]), "auto"))).toBe(
      'mode: expected one of "qa", "instruction", "conversation", got "faq"',
    );
  });

  it("rejects an auto reply whose mode cannot be told", () => {
    expect(reasonOf(parseGeneratedPairs(json(undefined, [{ messages: exchanges(1) }]), "auto"))).toMatch(
      /^mode: missing/,
    );
  });

  it("rejects a reply that is not JSON", () => {
    expect(reasonOf(parseGeneratedPairs("I'm sorry, I can't do that.", "qa"))).toBe(
      "not JSON: no JSON object or array in the response",
    );
    expect(reasonOf(parseGeneratedPairs("  \u200b ", "qa"))).toBe("empty response");
    expect(reasonOf(parseGeneratedPairs("42", "qa"))).toBe("expected a JSON object or array, got number 42");
    expect(reasonOf(parseGeneratedPairs('{"answer": "no pairs here"}', "qa"))).toBe(
      "pairs: expected an array of pairs, found none",
    );
  });

  it("rejects more than 10 pairs", () => {
    const raw = json(
      "qa",
      Array.from({ length: 11 }, () => ({ messages: exchanges(1) })),
    );
    expect(reasonOf(parseGeneratedPairs(raw, "qa"))).toBe("pairs: at most 10 pairs, got 11");
  });

  it("rejects messages of the wrong type", () => {
    const raw = json("qa", [{ messages: [QA, { role: "assistant", content: null }] }]);
    expect(reasonOf(parseGeneratedPairs(raw, "qa"))).toMatch(/^pairs\[0\]\.messages\[1\]\.content: /);
    expect(reasonOf(parseGeneratedPairs(json("qa", ["just text"]), "qa"))).toMatch(/^pairs\[0\]: /);
  });

  it("never throws, whatever it is given", () => {
    const inputs = ["{", "[[[[", "```json\n{\n```", '{"pairs": [{"messages": {}}]}', "\u0000", "null"];
    for (const raw of [...inputs, undefined as unknown as string, 7 as unknown as string]) {
      expect(() => parseGeneratedPairs(raw, "qa")).not.toThrow();
      expect(parseGeneratedPairs(raw, "qa").ok).toBe(false);
    }
  });
});

describe("sanitizeModelText", () => {
  it("removes zero-width, bidi and tag characters but keeps joiners that are spelling", () => {
    expect(sanitizeModelText("ig\u200bnore\u200d \u2066pass\u2069 \u202eword \ufeffx\u{e0041}")).toBe(
      "ignore pass word x",
    );
    expect(sanitizeModelText("👩\u200d💻 and می\u200cخواهم")).toBe("👩\u200d💻 and می\u200cخواهم");
  });

  it("removes control characters but keeps line feeds and tabs", () => {
    expect(sanitizeModelText("a\u0000b\u0007c\u001b[31m\td\r\ne\u0085")).toBe("abc[31m\td\ne");
  });

  it("removes HTML tags and keeps their text", () => {
    expect(sanitizeModelText('Use <b>bold</b> and <a href="https://x.example">a link</a>.')).toBe(
      "Use bold and a link.",
    );
    expect(sanitizeModelText("<p>One</p><p>Two<br/>Three</p>")).toBe("One\n\nTwo\nThree");
    expect(sanitizeModelText("Safe<script>alert(1)</script><!-- hidden --><style>p{}</style> text")).toBe(
      "Safe text",
    );
  });

  it("leaves angle brackets that are not HTML, and HTML inside Markdown code", () => {
    expect(sanitizeModelText("Use List<String> when a < b > c.")).toBe("Use List<String> when a < b > c.");
    expect(sanitizeModelText("Wrap it in a `<section>` element.")).toBe("Wrap it in a `<section>` element.");
    const block = 'Example:\n```html\n<div class="x"><b>hi</b></div>\n```';
    expect(sanitizeModelText(block)).toBe(block);
  });

  it("trims the ends and collapses runs of blank lines", () => {
    expect(sanitizeModelText("\n\n  Hello  \n\n\n\nworld \t\n ")).toBe("Hello\n\nworld");
  });
});
