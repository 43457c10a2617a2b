import { describe, expect, it } from "vitest";
import { parseMarkdown } from "./parse-markdown.js";

describe("parseMarkdown", () => {
  it("turns ATX and setext headings into heading blocks with their level", () => {
    const blocks = parseMarkdown("# Guide\n\nIntro.\n\nSetup\n-----\n\n### Details &amp; more\n");
    expect(blocks).toEqual([
      { kind: "heading", level: 1, text: "Guide" },
      { kind: "paragraph", text: "Intro." },
      { kind: "heading", level: 2, text: "Setup" },
      { kind: "heading", level: 3, text: "Details & more" },
    ]);
  });

  it("drops front matter and reduces inline markup to text, keeping inline code", () => {
    const markdown =
      "---\ntitle: Notes\n---\nUse **bold**, `npm ci` and [the docs](https://x.test) \\*here\\*.";
    expect(parseMarkdown(markdown)).toEqual([
      { kind: "paragraph", text: "Use bold, `npm ci` and the docs *here*." },
    ]);
    expect(parseMarkdown("&copy; 2026, `a &amp;&amp; b`")).toEqual([
      { kind: "paragraph", text: "© 2026, `a &amp;&amp; b`" },
    ]);
  });

  it("keeps list nesting, numbering from the list's start and task boxes", () => {
    const markdown = "3. Install\n4. Configure\n   - [x] keys\n   - [ ] budget\n      * monthly\n";
    expect(parseMarkdown(markdown)).toEqual([
      {
        kind: "list",
        text: "3. Install\n4. Configure\n  - [x] keys\n  - [ ] budget\n    - monthly",
      },
    ]);
  });

  it("fences code with its language, and indented code without one", () => {
    const blocks = parseMarkdown("```ts title=a.ts\nconst a = 1;\n```\n\n    plain code\n");
    expect(blocks).toEqual([
      { kind: "code", text: "```ts\nconst a = 1;\n```" },
      { kind: "code", text: "```\nplain code\n```" },
    ]);
  });

  it("renders tables as pipe tables, escaping pipes inside cells", () => {
    const blocks = parseMarkdown("| Model | Price |\n|---|--:|\n| `a \\| b` | 3 |\n");
    expect(blocks).toEqual([{ kind: "table", text: "| Model | Price |\n| --- | --- |\n| `a \\| b` | 3 |" }]);
  });

  it("turns a blockquote into a paragraph prefixed with '> '", () => {
    expect(parseMarkdown("> First line\n> continues.\n>\n> Second.")).toEqual([
      { kind: "paragraph", text: "> First line\n> continues.\n>\n> Second." },
    ]);
  });

  it("strips raw HTML to its text, keeping an embedded table's structure", () => {
    const markdown =
      'Intro <span class="x">inline</span> text.\n\n<div>\n<b>Raw</b> &amp; bold\n</div>\n\n<!-- note -->\n';
    expect(parseMarkdown(markdown)).toEqual([
      { kind: "paragraph", text: "Intro inline text." },
      { kind: "paragraph", text: "Raw & bold" },
    ]);
    expect(parseMarkdown("<table><tr><th>a</th></tr><tr><td>1</td></tr></table>")).toEqual([
      { kind: "table", text: "| a |\n| --- |\n| 1 |" },
    ]);
  });
});
