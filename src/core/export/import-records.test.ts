import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { toJsonlLine } from "./formats.js";
import { detectFormat, fromRecord, ImportLineError, parseJsonlLine } from "./import-records.js";

const HI = [
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello" },
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The error `parse` throws, so a test can look at its line and field as well as its message. */
function importError(parse: () => unknown): ImportLineError {
  try {
    parse();
  } catch (error) {
    if (error instanceof ImportLineError) return error;
    throw error;
  }
  throw new Error("expected an ImportLineError");
}

describe("detectFormat", () => {
  it("tells the formats apart by their keys", () => {
    expect(detectFormat({ messages: [] })).toBe("openai");
    expect(detectFormat({ system: "s", messages: [] })).toBe("anthropic-bedrock");
    expect(detectFormat({ prompt: "p", completion: "c" })).toBe("anthropic");
    expect(detectFormat({ instruction: "i", input: "", output: "o" })).toBe("alpaca");
    expect(detectFormat({ conversations: [] })).toBe("sharegpt");
  });

  it("answers undefined for anything else", () => {
    for (const record of [{ question: "q", answer: "a" }, { prompt: "p" }, [], "text", 3, null, undefined]) {
      expect(detectFormat(record)).toBeUndefined();
    }
  });
});

describe("parseJsonlLine", () => {
  it("returns the turns and the system prompt apart, and the format it read", () => {
    const line =
      '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}';
    expect(parseJsonlLine("auto", line, 1)).toEqual({
      format: "openai",
      messages: HI,
      systemPrompt: "Be brief.",
    });
    expect(parseJsonlLine("openai", line, 1)).toEqual({
      format: "openai",
      messages: HI,
      systemPrompt: "Be brief.",
    });
  });

  it("reads the anthropic prompt back into turns, system text first", () => {
    const line = String.raw`{"prompt":"Sys\n\nHuman: u1\n\nAssistant: a1\n\nHuman:  u2 \n\n\nAssistant:","completion":" a2\n"}`;
    expect(parseJsonlLine("auto", line, 1)).toEqual({
      format: "anthropic",
      systemPrompt: "Sys",
      messages: [
        { role: "user", content: "u1" },
        { role: "assistant", content: "a1" },
        { role: "user", content: " u2 \n" },
        { role: "assistant", content: "a2\n" },
      ],
    });
  });

  it("skips blank lines and a byte-order mark, and tolerates a CRLF line end", () => {
    expect(parseJsonlLine("auto", "", 4)).toBeUndefined();
    expect(parseJsonlLine("auto", "  \t\r", 4)).toBeUndefined();
    const line = '{"conversations":[{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello"}]}';
    expect(parseJsonlLine("auto", `\uFEFF${line}\r`, 1)?.messages).toEqual(HI);
  });

  describe("accepts the common variants", () => {
    it("ShareGPT with user/assistant roles and LLaMA-Factory's top-level system", () => {
      const line =
        '{"system":"Sys","conversations":[{"from":"user","value":"Hi"},{"from":"assistant","value":"Hello"}]}';
      const imported = parseJsonlLine("sharegpt", line, 1);
      expect(imported).toEqual({ format: "sharegpt", messages: HI, systemPrompt: "Sys" });
      expect(toJsonlLine("sharegpt", imported?.messages ?? [], imported?.systemPrompt)).toBe(
        '{"conversations":[{"from":"system","value":"Sys"},{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello"}]}',
      );
    });

    it("alpaca with a non-empty input, joined to the instruction (the documented round-trip exception)", () => {
      const line =
        '{"instruction":"Summarise this.","input":"FineFlow turns documents into datasets.","output":"A dataset tool."}';
      expect(parseJsonlLine("auto", line, 1)?.messages).toEqual([
        { role: "user", content: "Summarise this.\n\nFineFlow turns documents into datasets." },
        { role: "assistant", content: "A dataset tool." },
      ]);
    });

    it("alpaca without input, with an empty system and empty history", () => {
      const line = '{"instruction":"Hi","output":"Hello","system":"","history":[]}';
      expect(parseJsonlLine("auto", line, 1)).toEqual({ format: "alpaca", messages: HI });
    });

    it("an anthropic completion without its leading space", () => {
      const line = String.raw`{"prompt":"\n\nHuman: Hi\n\nAssistant:","completion":"Hello"}`;
      expect(parseJsonlLine("auto", line, 1)).toEqual({ format: "anthropic", messages: HI });
    });

    it("metadata keys beside the record", () => {
      const line =
        '{"id":"x1","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}],"source":"wiki"}';
      expect(parseJsonlLine("openai", line, 1)?.messages).toEqual(HI);
    });
  });

  describe("errors name the line and the field", () => {
    const cases: {
      name: string;
      format?: "openai" | "sharegpt" | "anthropic" | "alpaca" | "anthropic-bedrock";
      text: string;
      field: string;
      message: string;
    }[] = [
      { name: "bad JSON", text: `{"messages": [`, field: "json", message: "line 3: json: not valid JSON" },
      {
        name: "a record that is not an object",
        format: "openai",
        text: "[1, 2]",
        field: "record",
        message: "line 3: record: expected an object, got an array",
      },
      {
        name: "missing messages",
        format: "openai",
        text: `{"prompt_text":"x"}`,
        field: "messages",
        message: "line 3: messages: missing",
      },
      {
        name: "an empty message list",
        text: `{"messages":[]}`,
        field: "messages",
        message: "line 3: messages: must not be empty",
      },
      {
        name: "wrong role order",
        text: '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}',
        field: "messages[1].role",
        message: 'line 3: messages[1].role: expected "assistant", got "user"',
      },
      {
        name: "no final assistant message",
        text: '{"messages":[{"role":"system","content":"s"},{"role":"user","content":"a"}]}',
        field: "messages",
        message: 'line 3: messages: must end with an "assistant" message',
      },
      {
        name: "an unknown role",
        text: '{"messages":[{"role":"tool","content":"a"}]}',
        field: "messages[0].role",
        message: 'line 3: messages[0].role: expected one of "system", "user", "assistant", got "tool"',
      },
      {
        name: "empty content, counted from the system message",
        text: '{"messages":[{"role":"system","content":"s"},{"role":"user","content":""},{"role":"assistant","content":"b"}]}',
        field: "messages[1].content",
        message: "line 3: messages[1].content: must not be empty",
      },
      {
        name: "content that is not a string",
        text: '{"messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]}',
        field: "messages[0].content",
        message: "line 3: messages[0].content: expected a string, got an array",
      },
      {
        name: "a key that changes training",
        text: '{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b","weight":0}]}',
        field: "messages[1]",
        message: 'line 3: messages[1]: unrecognized key "weight"',
      },
      {
        name: "a system message in Bedrock's list",
        text: '{"system":"s","messages":[{"role":"system","content":"a"}]}',
        field: "messages[0].role",
        message: 'line 3: messages[0].role: expected one of "user", "assistant", got "system"',
      },
      {
        name: "ShareGPT turns out of order, in its own words",
        text: '{"conversations":[{"from":"gpt","value":"a"},{"from":"human","value":"b"}]}',
        field: "conversations[0].from",
        message: 'line 3: conversations[0].from: expected "human", got "gpt"',
      },
      {
        name: "ShareGPT with an unknown speaker",
        text: '{"conversations":[{"from":"function_call","value":"a"}]}',
        field: "conversations[0].from",
        message: "line 3: conversations[0].from: expected one of",
      },
      {
        name: "ShareGPT with the system text twice",
        text: '{"system":"s","conversations":[{"from":"system","value":"t"},{"from":"human","value":"a"},{"from":"gpt","value":"b"}]}',
        field: "system",
        message: "line 3: system: given both here and as conversations[0]",
      },
      {
        name: "alpaca with an empty output",
        text: '{"instruction":"a","input":"","output":" "}',
        field: "output",
        message: "line 3: output: must not be empty",
      },
      {
        name: "alpaca with an empty history answer",
        text: '{"instruction":"a","output":"b","history":[["c",""]]}',
        field: "history[0][1]",
        message: "line 3: history[0][1]: must not be empty",
      },
      {
        name: "alpaca history that is not pairs",
        text: '{"instruction":"a","output":"b","history":[["c"]]}',
        field: "history[0]",
        message: "line 3: history[0]: must hold at least 2 items",
      },
      {
        name: "an anthropic prompt without its closing marker",
        text: String.raw`{"prompt":"\n\nHuman: a","completion":" b"}`,
        field: "prompt",
        message: String.raw`line 3: prompt: must end with "\n\nAssistant:"`,
      },
      {
        // Text before the first marker is the system prompt, so this reads as a system text and no turn.
        name: "an anthropic prompt without its leading blank line",
        text: String.raw`{"prompt":"Human: a\n\nAssistant:","completion":" b"}`,
        field: "prompt",
        message: String.raw`line 3: prompt: must contain "\n\nHuman:"`,
      },
      {
        name: "an anthropic prompt without a Human turn",
        text: String.raw`{"prompt":"Just text\n\nAssistant:","completion":" b"}`,
        field: "prompt",
        message: String.raw`line 3: prompt: must contain "\n\nHuman:"`,
      },
      {
        name: "an anthropic prompt with two Human turns in a row",
        text: String.raw`{"prompt":"\n\nHuman: a\n\nHuman: b\n\nAssistant:","completion":" c"}`,
        field: "prompt",
        message: String.raw`line 3: prompt: turn 2 should start with "\n\nAssistant:"`,
      },
      {
        name: "an empty anthropic turn",
        text: String.raw`{"prompt":"\n\nHuman: \n\nAssistant:","completion":" c"}`,
        field: "prompt",
        message: "line 3: prompt: turn 1 (Human) is empty",
      },
      {
        name: "an empty anthropic completion",
        text: String.raw`{"prompt":"\n\nHuman: a\n\nAssistant:","completion":" "}`,
        field: "completion",
        message: "line 3: completion: must not be empty",
      },
      {
        name: "an anthropic marker in the system text",
        text: String.raw`{"prompt":"s\n\nAssistant: x\n\nHuman: a\n\nAssistant:","completion":" c"}`,
        field: "prompt",
        message: String.raw`line 3: prompt: must not contain "\n\nAssistant:"`,
      },
      {
        name: "an unknown format on auto-detect",
        text: '{"question":"q","answer":"a"}',
        field: "format",
        message: "line 3: format: not one of openai, anthropic, anthropic-bedrock, alpaca, sharegpt",
      },
    ];
    for (const example of cases) {
      it(example.name, () => {
        const error = importError(() => parseJsonlLine(example.format ?? "auto", example.text, 3));
        expect(error.message).toMatch(new RegExp(`^${escapeRegExp(example.message)}`));
        expect(error.line).toBe(3);
        expect(error.field).toBe(example.field);
      });
    }

    it("is a ValidationError, so the HTTP layer answers 400 with the field", () => {
      const error = importError(() => parseJsonlLine("auto", "nope", 7));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.name).toBe("ImportLineError");
      expect(error.issues).toEqual([
        { field: "line 7: json", message: expect.stringContaining("not valid JSON") },
      ]);
    });
  });
});

describe("fromRecord", () => {
  it("reads an already parsed record in the format it is told", () => {
    const record = { system: "Sys", messages: HI };
    expect(fromRecord("anthropic-bedrock", record, 1)).toEqual({ messages: HI, systemPrompt: "Sys" });
    expect(importError(() => fromRecord("alpaca", record, 2)).message).toBe("line 2: instruction: missing");
  });
});
