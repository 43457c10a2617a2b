import { describe, expect, it } from "vitest";
import { DocumentParseError } from "./document-parse-error.js";
import { parseJsonLinesRecords, parseJsonRecords } from "./parse-json-records.js";

function parseError(parse: () => unknown): DocumentParseError {
  try {
    parse();
  } catch (error) {
    if (error instanceof DocumentParseError) return error;
    throw error;
  }
  throw new Error("expected a DocumentParseError");
}

describe("parseJsonRecords", () => {
  it("reads an array of records, each a section: under its title, or untitled", () => {
    const json = JSON.stringify([
      { title: "Refunds", text: "Within 30 days.\n\nKeep the receipt." },
      { text: "Other" },
    ]);
    expect(parseJsonRecords(json)).toEqual([
      { kind: "heading", level: 1, text: "Refunds" },
      { kind: "paragraph", text: "Within 30 days." },
      { kind: "paragraph", text: "Keep the receipt." },
      { kind: "heading", level: 1, text: "" },
      { kind: "paragraph", text: "Other" },
    ]);
  });

  it("reads a single object with text", () => {
    expect(parseJsonRecords('{"text": "Only one", "title": 7}')).toEqual([
      { kind: "heading", level: 1, text: "" },
      { kind: "paragraph", text: "Only one" },
    ]);
  });

  it("names the array index of a record without string text", () => {
    const error = parseError(() => parseJsonRecords('[{"text": "ok"}, {"text": 5}]'));
    expect(error.reason).toBe("invalid_records");
    expect(error.message).toContain("index 1");
  });

  it("reports malformed JSON as corrupt", () => {
    expect(parseError(() => parseJsonRecords('[{"text": ')).reason).toBe("corrupt");
    expect(parseError(() => parseJsonRecords('{"body": "x"}')).reason).toBe("invalid_records");
  });

  it("says a file of a record a line is JSON Lines, to be named .jsonl, and only such a file", () => {
    const lines = parseError(() => parseJsonRecords('{"text": "a"}\n{"text": "b"}\n'));
    expect(lines.message).toMatch(
      /^This file is not valid JSON \(.*\)\. It reads as JSON Lines, a record a line: name it \.jsonl\.$/,
    );
    for (const broken of ['[{"text": "a"},\n{"text": ', '{"text": "a"}\n]', '{"text": "a"} {"text": "b"}']) {
      expect(parseError(() => parseJsonRecords(broken)).message).not.toContain("JSON Lines");
    }
  });
});

describe("parseJsonLinesRecords", () => {
  it("reads one record per line and skips blank lines", () => {
    expect(parseJsonLinesRecords('{"text": "a"}\n\n  \n{"title": "B", "text": "b"}\n')).toEqual([
      { kind: "heading", level: 1, text: "" },
      { kind: "paragraph", text: "a" },
      { kind: "heading", level: 1, text: "B" },
      { kind: "paragraph", text: "b" },
    ]);
  });

  it("reads a line that opens with a byte order mark, as files joined together leave one", () => {
    expect(parseJsonLinesRecords('{"text": "a"}\n\uFEFF{"text": "b"}')).toHaveLength(4);
  });

  it("names the line of a record without text, and of a line that is not JSON", () => {
    const missing = parseError(() => parseJsonLinesRecords('{"text": "a"}\n\n{"prompt": "b"}'));
    expect(missing.reason).toBe("invalid_records");
    expect(missing.message).toMatch(/^Line 3 /);
    const broken = parseError(() => parseJsonLinesRecords('{"text": "a"}\n{oops'));
    expect(broken.reason).toBe("invalid_records");
    expect(broken.message).toMatch(/^Line 2 is not valid JSON/);
  });
});
