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

  it("reads a line underlined with === or --- as a heading, and drops a rule that underlines nothing", () => {
    const text =
      "User Manual\n===========\n\nIntro text.\n\nInstallation\n------------\nRun the installer.\n\n" +
      "Some prose.\nSetup\n-----\nMore.\n\n***\n\n=====\nAfter the rule.";
    expect(parseText(text)).toEqual([
      { kind: "heading", level: 1, text: "User Manual" },
      { kind: "paragraph", text: "Intro text." },
      { kind: "heading", level: 2, text: "Installation" },
      { kind: "paragraph", text: "Run the installer." },
      { kind: "paragraph", text: "Some prose." },
      { kind: "heading", level: 2, text: "Setup" },
      { kind: "paragraph", text: "More." },
      { kind: "paragraph", text: "After the rule." },
    ]);
    // An item is no title, nor is a sentence: their rule is dropped.
    expect(parseText("- one\n- two\n---")).toEqual([{ kind: "list", text: "- one\n- two" }]);
    expect(parseText("The end of a story.\n----------")).toEqual([
      { kind: "paragraph", text: "The end of a story." },
    ]);
  });

  it("keeps the indentation of lines within a paragraph, less what they share", () => {
    const code =
      "    def main():\n        server = Server(port=8080)\n        if server.ready:\n            server.run()";
    expect(parseText(`Start it with:\n\n${code}`)).toEqual([
      { kind: "paragraph", text: "Start it with:" },
      {
        kind: "paragraph",
        text: "def main():\n    server = Server(port=8080)\n    if server.ready:\n        server.run()",
      },
    ]);
    expect(parseText("\tA paragraph set in by a tab\n\tgoes on.")).toEqual([
      { kind: "paragraph", text: "A paragraph set in by a tab\ngoes on." },
    ]);
  });
});
