import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import type { PairMessage } from "../generation/types.js";
import {
  EXPORT_FORMATS,
  type ExportFormat,
  exportIssue,
  fileExtensionFor,
  suggestedFileName,
  toJsonlLine,
  toRecord,
} from "./formats.js";
import { parseJsonlLine } from "./import-records.js";

const user = (content: string): PairMessage => ({ role: "user", content });
const assistant = (content: string): PairMessage => ({ role: "assistant", content });
const system = (content: string): PairMessage => ({ role: "system", content });

interface GoldenCase {
  name: string;
  messages: PairMessage[];
  systemPrompt?: string;
  /** The expected line per format, written out: these bytes are the contract with the training tools. */
  lines: Record<ExportFormat, string>;
}

const QUESTION = user("What is FineFlow?");
const ANSWER = assistant("A tool that turns documents into datasets.");

// Decomposed é (e + U+0301), a ZWJ sequence, a flag, CJK, Arabic and Hebrew: all must survive unescaped.
const UNICODE_QUESTION = "Café e\u0301 👩\u200d💻🎉 日本語のテキストは？";
const UNICODE_ANSWER = "مرحبا بالعالم — שלום 한국어 🇫🇷";

const GOLDEN: GoldenCase[] = [
  {
    name: "single turn without a system prompt",
    messages: [QUESTION, ANSWER],
    lines: {
      openai:
        '{"messages":[{"role":"user","content":"What is FineFlow?"},{"role":"assistant","content":"A tool that turns documents into datasets."}]}',
      anthropic: String.raw`{"prompt":"\n\nHuman: What is FineFlow?\n\nAssistant:","completion":" A tool that turns documents into datasets."}`,
      "anthropic-bedrock":
        '{"messages":[{"role":"user","content":"What is FineFlow?"},{"role":"assistant","content":"A tool that turns documents into datasets."}]}',
      alpaca:
        '{"instruction":"What is FineFlow?","input":"","output":"A tool that turns documents into datasets."}',
      sharegpt:
        '{"conversations":[{"from":"human","value":"What is FineFlow?"},{"from":"gpt","value":"A tool that turns documents into datasets."}]}',
    },
  },
  {
    name: "single turn with the dataset's system prompt",
    messages: [QUESTION, ANSWER],
    systemPrompt: "You are concise.",
    lines: {
      openai:
        '{"messages":[{"role":"system","content":"You are concise."},{"role":"user","content":"What is FineFlow?"},{"role":"assistant","content":"A tool that turns documents into datasets."}]}',
      anthropic: String.raw`{"prompt":"You are concise.\n\nHuman: What is FineFlow?\n\nAssistant:","completion":" A tool that turns documents into datasets."}`,
      "anthropic-bedrock":
        '{"system":"You are concise.","messages":[{"role":"user","content":"What is FineFlow?"},{"role":"assistant","content":"A tool that turns documents into datasets."}]}',
      alpaca:
        '{"instruction":"What is FineFlow?","input":"","output":"A tool that turns documents into datasets.","system":"You are concise."}',
      sharegpt:
        '{"conversations":[{"from":"system","value":"You are concise."},{"from":"human","value":"What is FineFlow?"},{"from":"gpt","value":"A tool that turns documents into datasets."}]}',
    },
  },
  {
    name: "multi-turn without a system prompt",
    messages: [
      user("Hi"),
      assistant("Hello! How can I help?"),
      user("Export to JSONL"),
      assistant("Use the export button."),
    ],
    lines: {
      openai:
        '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello! How can I help?"},{"role":"user","content":"Export to JSONL"},{"role":"assistant","content":"Use the export button."}]}',
      anthropic: String.raw`{"prompt":"\n\nHuman: Hi\n\nAssistant: Hello! How can I help?\n\nHuman: Export to JSONL\n\nAssistant:","completion":" Use the export button."}`,
      "anthropic-bedrock":
        '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello! How can I help?"},{"role":"user","content":"Export to JSONL"},{"role":"assistant","content":"Use the export button."}]}',
      alpaca:
        '{"instruction":"Export to JSONL","input":"","output":"Use the export button.","history":[["Hi","Hello! How can I help?"]]}',
      sharegpt:
        '{"conversations":[{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello! How can I help?"},{"from":"human","value":"Export to JSONL"},{"from":"gpt","value":"Use the export button."}]}',
    },
  },
  {
    name: "multi-turn with a system prompt",
    messages: [
      user("Hi"),
      assistant("Hello!"),
      user("Formats?"),
      assistant("Five."),
      user("Which?"),
      assistant("OpenAI, Anthropic, Bedrock, Alpaca, ShareGPT."),
    ],
    systemPrompt: "You are concise.",
    lines: {
      openai:
        '{"messages":[{"role":"system","content":"You are concise."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},{"role":"user","content":"Formats?"},{"role":"assistant","content":"Five."},{"role":"user","content":"Which?"},{"role":"assistant","content":"OpenAI, Anthropic, Bedrock, Alpaca, ShareGPT."}]}',
      anthropic: String.raw`{"prompt":"You are concise.\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Formats?\n\nAssistant: Five.\n\nHuman: Which?\n\nAssistant:","completion":" OpenAI, Anthropic, Bedrock, Alpaca, ShareGPT."}`,
      "anthropic-bedrock":
        '{"system":"You are concise.","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},{"role":"user","content":"Formats?"},{"role":"assistant","content":"Five."},{"role":"user","content":"Which?"},{"role":"assistant","content":"OpenAI, Anthropic, Bedrock, Alpaca, ShareGPT."}]}',
      alpaca:
        '{"instruction":"Which?","input":"","output":"OpenAI, Anthropic, Bedrock, Alpaca, ShareGPT.","system":"You are concise.","history":[["Hi","Hello!"],["Formats?","Five."]]}',
      sharegpt:
        '{"conversations":[{"from":"system","value":"You are concise."},{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello!"},{"from":"human","value":"Formats?"},{"from":"gpt","value":"Five."},{"from":"human","value":"Which?"},{"from":"gpt","value":"OpenAI, Anthropic, Bedrock, Alpaca, ShareGPT."}]}',
    },
  },
  {
    name: "a pair's own system message overriding the dataset's",
    messages: [system("Answer like a pirate."), user("Hi"), assistant("Ahoy!")],
    systemPrompt: "You are concise.",
    lines: {
      openai:
        '{"messages":[{"role":"system","content":"Answer like a pirate."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Ahoy!"}]}',
      anthropic: String.raw`{"prompt":"Answer like a pirate.\n\nHuman: Hi\n\nAssistant:","completion":" Ahoy!"}`,
      "anthropic-bedrock":
        '{"system":"Answer like a pirate.","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Ahoy!"}]}',
      alpaca: '{"instruction":"Hi","input":"","output":"Ahoy!","system":"Answer like a pirate."}',
      sharegpt:
        '{"conversations":[{"from":"system","value":"Answer like a pirate."},{"from":"human","value":"Hi"},{"from":"gpt","value":"Ahoy!"}]}',
    },
  },
  {
    name: "Unicode: emoji, CJK, combining marks, right-to-left scripts",
    messages: [user(UNICODE_QUESTION), assistant(UNICODE_ANSWER)],
    systemPrompt: "Réponds en français 🙂",
    lines: {
      openai:
        '{"messages":[{"role":"system","content":"Réponds en français 🙂"},{"role":"user","content":"Café é 👩‍💻🎉 日本語のテキストは？"},{"role":"assistant","content":"مرحبا بالعالم — שלום 한국어 🇫🇷"}]}',
      anthropic: String.raw`{"prompt":"Réponds en français 🙂\n\nHuman: Café é 👩‍💻🎉 日本語のテキストは？\n\nAssistant:","completion":" مرحبا بالعالم — שלום 한국어 🇫🇷"}`,
      "anthropic-bedrock":
        '{"system":"Réponds en français 🙂","messages":[{"role":"user","content":"Café é 👩‍💻🎉 日本語のテキストは？"},{"role":"assistant","content":"مرحبا بالعالم — שלום 한국어 🇫🇷"}]}',
      alpaca:
        '{"instruction":"Café é 👩‍💻🎉 日本語のテキストは？","input":"","output":"مرحبا بالعالم — שלום 한국어 🇫🇷","system":"Réponds en français 🙂"}',
      sharegpt:
        '{"conversations":[{"from":"system","value":"Réponds en français 🙂"},{"from":"human","value":"Café é 👩‍💻🎉 日本語のテキストは？"},{"from":"gpt","value":"مرحبا بالعالم — שלום 한국어 🇫🇷"}]}',
    },
  },
  {
    name: "quotes, backslashes, line feeds, tabs, CR and Unicode line separators",
    messages: [
      user('He said "hi" C:\\path\\to\\file\nline 2\ttab\r\nend'),
      assistant("ok\u2028next\u2029para\u0085nel \u0001 done\\"),
    ],
    lines: {
      openai: String.raw`{"messages":[{"role":"user","content":"He said \"hi\" C:\\path\\to\\file\nline 2\ttab\r\nend"},{"role":"assistant","content":"ok\u2028next\u2029para\u0085nel \u0001 done\\"}]}`,
      anthropic: String.raw`{"prompt":"\n\nHuman: He said \"hi\" C:\\path\\to\\file\nline 2\ttab\r\nend\n\nAssistant:","completion":" ok\u2028next\u2029para\u0085nel \u0001 done\\"}`,
      "anthropic-bedrock": String.raw`{"messages":[{"role":"user","content":"He said \"hi\" C:\\path\\to\\file\nline 2\ttab\r\nend"},{"role":"assistant","content":"ok\u2028next\u2029para\u0085nel \u0001 done\\"}]}`,
      alpaca: String.raw`{"instruction":"He said \"hi\" C:\\path\\to\\file\nline 2\ttab\r\nend","input":"","output":"ok\u2028next\u2029para\u0085nel \u0001 done\\"}`,
      sharegpt: String.raw`{"conversations":[{"from":"human","value":"He said \"hi\" C:\\path\\to\\file\nline 2\ttab\r\nend"},{"from":"gpt","value":"ok\u2028next\u2029para\u0085nel \u0001 done\\"}]}`,
    },
  },
];

describe("toJsonlLine", () => {
  for (const golden of GOLDEN) {
    for (const format of EXPORT_FORMATS) {
      it(`writes ${format}: ${golden.name}`, () => {
        const line = toJsonlLine(format, golden.messages, golden.systemPrompt);
        expect(Buffer.from(line, "utf8").equals(Buffer.from(golden.lines[format], "utf8"))).toBe(true);
        expect(line).toBe(golden.lines[format]);
        // Nothing a line reader could split on: LF, CR, NEL, LS, PS.
        expect(line).not.toMatch(/[\n\r\u0085\u2028\u2029]/);
        expect(line.endsWith("}")).toBe(true);
      });

      it(`reads ${format} back to the same bytes: ${golden.name}`, () => {
        const line = golden.lines[format];
        const imported = parseJsonlLine(format, line, 1);
        expect(imported).toBeDefined();
        expect(toJsonlLine(format, imported?.messages ?? [], imported?.systemPrompt)).toBe(line);

        const detected = parseJsonlLine("auto", line, 1);
        expect(toJsonlLine(format, detected?.messages ?? [], detected?.systemPrompt)).toBe(line);
      });
    }
  }

  it("keeps non-ASCII characters as they are, combining marks and joiners included", () => {
    const line = toJsonlLine("openai", [user(UNICODE_QUESTION), assistant(UNICODE_ANSWER)]);
    expect(line).toContain("e\u0301");
    expect(line).toContain("👩\u200d💻");
    expect(line).toContain("שלום");
    expect(line).not.toMatch(/\\u(?!2028|2029|0085)/);
    expect(JSON.parse(line)).toEqual({
      messages: [
        { role: "user", content: UNICODE_QUESTION },
        { role: "assistant", content: UNICODE_ANSWER },
      ],
    });
  });

  it("escapes only the line separators JSON leaves raw, and they parse back to the same characters", () => {
    const content = "a\u2028b\u2029c\u0085d";
    const line = toJsonlLine("sharegpt", [user(content), assistant("ok")]);
    expect(line).toContain(String.raw`a\u2028b\u2029c\u0085d`);
    expect(JSON.parse(line).conversations[0].value).toBe(content);
  });
});

describe("toRecord", () => {
  it("returns the record as an object, keys in the documented order", () => {
    const record = toRecord("alpaca", [user("u1"), assistant("a1"), user("u2"), assistant("a2")], "sys");
    expect(Object.keys(record)).toEqual(["instruction", "input", "output", "system", "history"]);
    expect(record).toEqual({
      instruction: "u2",
      input: "",
      output: "a2",
      system: "sys",
      history: [["u1", "a1"]],
    });
  });

  it("leaves out a blank system prompt instead of writing an empty one", () => {
    for (const format of EXPORT_FORMATS) {
      expect(toJsonlLine(format, [QUESTION, ANSWER], "  \n")).toBe(toJsonlLine(format, [QUESTION, ANSWER]));
    }
  });

  it("falls back to the dataset's prompt when the pair's own system message is blank", () => {
    expect(toRecord("anthropic-bedrock", [system(" "), user("Hi"), assistant("Hey")], "Be brief.")).toEqual({
      system: "Be brief.",
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hey" },
      ],
    });
  });

  it("uses the pair's own system message when the dataset has none", () => {
    expect(toRecord("sharegpt", [system("Own."), user("Hi"), assistant("Hey")])).toEqual({
      conversations: [
        { from: "system", value: "Own." },
        { from: "human", value: "Hi" },
        { from: "gpt", value: "Hey" },
      ],
    });
  });

  it("copies only role and content, whatever else the stored messages carry", () => {
    const extra = { role: "user", content: "Hi", id: "m1" } as PairMessage;
    expect(toJsonlLine("openai", [extra, assistant("Hey")])).toBe(
      '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hey"}]}',
    );
  });

  const refusals: { name: string; messages: PairMessage[]; field: string; message: RegExp }[] = [
    { name: "no messages", messages: [], field: "messages", message: /at least one user and one assistant/ },
    { name: "only a system message", messages: [system("s")], field: "messages", message: /at least one/ },
    {
      name: "starting with the assistant",
      messages: [ANSWER, QUESTION],
      field: "messages[0].role",
      message: /expected "user", got "assistant"/,
    },
    {
      name: "two user turns",
      messages: [QUESTION, QUESTION, ANSWER],
      field: "messages[1].role",
      message: /expected "assistant", got "user"/,
    },
    {
      name: "ending with the user",
      messages: [QUESTION, ANSWER, QUESTION],
      field: "messages",
      message: /must end with an "assistant" message/,
    },
    {
      name: "an empty answer",
      messages: [QUESTION, assistant(" \n")],
      field: "messages[1].content",
      message: /must not be empty/,
    },
    {
      name: "a late system message",
      messages: [system("s"), QUESTION, system("t"), ANSWER],
      field: "messages[2].role",
      message: /may only come first/,
    },
  ];
  for (const refusal of refusals) {
    it(`refuses ${refusal.name}, naming the field`, () => {
      for (const format of EXPORT_FORMATS) {
        expect(exportIssue(format, refusal.messages)).toEqual({
          field: refusal.field,
          message: expect.stringMatching(refusal.message),
        });
        expect(() => toRecord(format, refusal.messages)).toThrow(ValidationError);
        expect(() => toJsonlLine(format, refusal.messages)).toThrow(`${refusal.field}: `);
      }
    });
  }

  it("refuses anthropic turn markers inside a message, which would split it into turns", () => {
    const messages = [QUESTION, assistant("Sure.\n\nHuman: and then?")];
    expect(exportIssue("anthropic", messages)).toEqual({
      field: "messages[1].content",
      message: expect.stringContaining(String.raw`"\n\nHuman:"`),
    });
    expect(exportIssue("anthropic", [QUESTION, ANSWER], "Rules\n\nAssistant: ok")?.field).toBe(
      "systemPrompt",
    );
    expect(exportIssue("anthropic", [system("x\n\nHuman: y"), QUESTION, ANSWER])?.field).toBe(
      "messages[0].content",
    );
    // The other formats have real message boundaries, so the same text is fine there.
    expect(exportIssue("openai", messages)).toBeUndefined();
  });
});

describe("suggestedFileName", () => {
  it("names the dataset, the format and the part", () => {
    expect(suggestedFileName("support-docs", "openai")).toBe("support-docs.openai.jsonl");
    expect(suggestedFileName("support-docs", "openai", "train")).toBe("support-docs.openai.train.jsonl");
    expect(suggestedFileName("support-docs", "anthropic-bedrock", "validation")).toBe(
      "support-docs.anthropic-bedrock.validation.jsonl",
    );
    expect(fileExtensionFor("sharegpt")).toBe("jsonl");
  });

  it("keeps only what every file system and a Content-Disposition header accept", () => {
    expect(suggestedFileName("Support Docs (v2)", "alpaca")).toBe("support-docs-v2.alpaca.jsonl");
    expect(suggestedFileName("../../etc/passwd", "openai")).toBe("etc-passwd.openai.jsonl");
    expect(suggestedFileName("Résumé données", "sharegpt")).toBe("resume-donnees.sharegpt.jsonl");
    expect(suggestedFileName("日本語", "openai")).toBe("dataset.openai.jsonl");
    expect(suggestedFileName("   ", "openai")).toBe("dataset.openai.jsonl");
    expect(suggestedFileName("CON", "openai")).toBe("con-dataset.openai.jsonl");
    expect(suggestedFileName("x".repeat(300), "openai")).toBe(`${"x".repeat(80)}.openai.jsonl`);
  });
});

describe("export → import → export", () => {
  // Fragments chosen to sit next to the anthropic markers, line separators, escapes and broken surrogates.
  const pieces = [
    "\n",
    " ",
    "\n\n",
    "Human:",
    "Assistant:",
    "Human",
    "a",
    "é",
    "\u2028",
    "\\",
    '"',
    "\r",
    "\t",
  ];
  pieces.push("👩\u200d💻", "\uFEFF", "\ud800", "e\u0301", "ש");

  it("gives back the same bytes for every pair an export accepts", () => {
    let state = 1;
    const next = (n: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    const text = () => Array.from({ length: 1 + next(6) }, () => pieces[next(pieces.length)]).join("");
    let checked = 0;
    for (let example = 0; example < 2_000; example++) {
      const messages: PairMessage[] = next(3) === 0 ? [system(text())] : [];
      for (let turn = 0; turn <= next(3); turn++) messages.push(user(text()), assistant(text()));
      const systemPrompt = next(2) === 0 ? text() : undefined;
      for (const format of EXPORT_FORMATS) {
        if (exportIssue(format, messages, systemPrompt)) continue;
        const line = toJsonlLine(format, messages, systemPrompt);
        expect(line).not.toMatch(/[\n\r\u0085\u2028\u2029]/);
        const imported = parseJsonlLine("auto", line, 1);
        expect(toJsonlLine(format, imported?.messages ?? [], imported?.systemPrompt)).toBe(line);
        checked++;
      }
    }
    // Most random pairs are exportable; a run that refused nearly all would prove nothing.
    expect(checked).toBeGreaterThan(5_000);
  });
});
