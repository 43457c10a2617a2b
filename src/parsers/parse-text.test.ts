import { describe, expect, it } from "vitest";
import { parseText } from "./parse-text.js";

describe("parseText", () => {
  it("splits paragraphs on blank lines and invents no headings", () => {
    expect(parseText("INTRODUCTION\n\nFirst paragraph\nstill first.\n   \nSecond.")).toEqual([
      { kind: "paragraph", text: "INTRODUCTION" },
      { kind: "paragraph", text: "First paragraph\nstill first." },
      { kind: "paragraph", text: "Second." },
    ]);
  });

  it("keeps list-looking lines as a list, normalising markers and nesting", () => {
    const text = "You need:\n* flour\n    • rye\n      finely ground\n* water\n\n1) Mix\n2) Bake";
    expect(parseText(text)).toEqual([
      { kind: "paragraph", text: "You need:" },
      { kind: "list", text: "- flour\n  - rye\n    finely ground\n- water" },
      { kind: "list", text: "1. Mix\n2. Bake" },
    ]);
  });

  it("does not read a sentence that opens with a year as a numbered item", () => {
    expect(parseText("2024. A good year.")).toEqual([{ kind: "paragraph", text: "2024. A good year." }]);
  });
});
