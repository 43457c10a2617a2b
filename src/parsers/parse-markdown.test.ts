import { describe, expect, it } from "vitest";
import { parseMarkdown, parseMdx } from "./parse-markdown.js";

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

  it("writes <sup> and <sub> as raised and lowered text, as an HTML page's", () => {
    expect(
      parseMarkdown("E = mc<sup>2</sup>, H<sub>2</sub>O, 2<SUP>k+1</SUP> and May 1<sup>st</sup>."),
    ).toEqual([{ kind: "paragraph", text: "E = mc², H₂O, 2^(k+1) and May 1st." }]);
  });

  it("keeps list nesting, indented to each marker's width, numbering from the list's start and task boxes", () => {
    const markdown = "3. Install\n4. Configure\n   - [x] keys\n   - [ ] budget\n      * monthly\n";
    expect(parseMarkdown(markdown)).toEqual([
      {
        kind: "list",
        text: "3. Install\n4. Configure\n   - [x] keys\n   - [ ] budget\n     - monthly",
      },
    ]);
  });

  it("keeps a list item's paragraphs, sub-lists and code in their order", () => {
    const markdown = [
      "1. Remove the signature of the binary:",
      "",
      "   * On macOS:",
      "",
      "   ```bash",
      "   codesign --remove-signature hello",
      "   ```",
      "",
      "   * On Windows:",
      "",
      "   ```powershell",
      "   signtool remove /s hello.exe",
      "   ```",
      "",
      "2. Inject the blob with these options:",
      "",
      "   * `hello` - the copy of the executable.",
      "   * `NODE_SEA_BLOB` - the resource name.",
      "",
      "   To summarize, here is the command for each platform.",
    ].join("\n");
    expect(parseMarkdown(markdown)).toEqual([
      {
        kind: "list",
        text: [
          "1. Remove the signature of the binary:",
          "   - On macOS:",
          "",
          "   ```bash",
          "   codesign --remove-signature hello",
          "   ```",
          "",
          "   - On Windows:",
          "",
          "   ```powershell",
          "   signtool remove /s hello.exe",
          "   ```",
          "2. Inject the blob with these options:",
          "   - `hello` - the copy of the executable.",
          "   - `NODE_SEA_BLOB` - the resource name.",
          "",
          "   To summarize, here is the command for each platform.",
        ].join("\n"),
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

  it("keeps words in angle brackets that are no formatting tags, as written", () => {
    expect(parseMarkdown("Use List<String> and Foo<T>.")).toEqual([
      { kind: "paragraph", text: "Use List<String> and Foo<T>." },
    ]);
    expect(parseMarkdown("<<SYS>> and <</SYS>>")).toEqual([
      { kind: "paragraph", text: "<<SYS>> and <</SYS>>" },
    ]);
    expect(parseMarkdown("Add a <div> element. Press <Enter> to confirm, or <b> to start bold.")).toEqual([
      { kind: "paragraph", text: "Add a <div> element. Press <Enter> to confirm, or <b> to start bold." },
    ]);
    expect(parseMarkdown("# Map<K>\n\n- Set<T>\n\n| Type |\n|---|\n| Foo<T> |")).toEqual([
      { kind: "heading", level: 1, text: "Map<K>" },
      { kind: "list", text: "- Set<T>" },
      { kind: "table", text: "| Type |\n| --- |\n| Foo<T> |" },
    ]);
  });

  it("keeps a block that opens with a tag HTML does not have as prose", () => {
    expect(parseMarkdown("<T>\n\n<instructions>\nSummarize.\n</instructions>")).toEqual([
      { kind: "paragraph", text: "<T>" },
      { kind: "paragraph", text: "<instructions>\nSummarize.\n</instructions>" },
    ]);
  });

  it("drops formatting tags for the text they wrap, and comments", () => {
    const markdown = [
      '<b>b</b> <i>i</i> <em>em</em> <strong>strong</strong> <span class="x">span</span>',
      '<a href="https://x.test">a</a> <kbd>Ctrl</kbd>+<kbd>C</kbd> <u>u</u> <s>s</s> <mark>mark</mark>',
      '<small>small</small> <abbr title="HyperText">HTML</abbr> <code>npm ci</code><br>next <!-- note -->line',
      "",
      "<!-- a comment block -->",
    ].join("\n");
    expect(parseMarkdown(markdown)).toEqual([
      {
        kind: "paragraph",
        text: "b i em strong span\na Ctrl+C u s mark\nsmall HTML `npm ci`\nnext line",
      },
    ]);
    // An anchor closed on itself and an image without alt text show no text.
    expect(parseMarkdown('<a id="setup"/>Setup<img src="icon.png">')).toEqual([
      { kind: "paragraph", text: "Setup" },
    ]);
  });

  it("drops the markup of HTML's elements that have attributes, a closing tag or no content, keeping their text", () => {
    expect(
      parseMarkdown('Click <button onclick="steal()">Submit</button> or <input type="text" value="default">'),
    ).toEqual([{ kind: "paragraph", text: "Click Submit or" }]);
    const markdown = [
      "Pick <select> <option>One</option> <option>Two</option> </select> now.",
      '<video src="a.mp4">Your browser has no video.</video> <object data="a.swf">Plugin</object><embed src="a.swf">',
      "Line<br>break",
      'Void:<hr><wbr><meta charset="utf-8"><link rel="icon"><source src="a.webm"><track src="a.vtt">',
      'and <param name="a"><col span="2"><area shape="rect"><base href="/"> end',
    ].join("\n");
    expect(parseMarkdown(markdown)).toEqual([
      {
        kind: "paragraph",
        text: "Pick One Two now.\nYour browser has no video. Plugin\nLine\nbreak\nVoid:\nand end",
      },
    ]);
  });

  it("drops script, style, template, noscript and drawings with their content, as HTML pages lose them", () => {
    expect(
      parseMarkdown("Text <script>alert(1)</script> more <style>p { color: red }</style> text."),
    ).toEqual([{ kind: "paragraph", text: "Text more text." }]);
    expect(parseMarkdown('An icon <svg viewBox="0 0 8 8"><path d="M0 0h8"/></svg> here.')).toEqual([
      { kind: "paragraph", text: "An icon here." },
    ]);
    const blocks = [
      "<noscript>Enable JavaScript.</noscript>",
      "<template><p>never shown</p></template>",
      "<noscript>\nEnable JavaScript.\n</noscript>",
      "<template>\n<p>never shown</p>\n</template>",
      "Shown.",
    ].join("\n\n");
    expect(parseMarkdown(blocks)).toEqual([{ kind: "paragraph", text: "Shown." }]);
  });

  it("keeps a tag HTML has as a word when it is bare and alone, or named as a tag or element", () => {
    expect(
      parseMarkdown(
        "Add a <div> element, then the <table> tag. An <img> tag or a <br> tag shows no text. " +
          "Put a <link> in the head.",
      ),
    ).toEqual([
      {
        kind: "paragraph",
        text:
          "Add a <div> element, then the <table> tag. An <img> tag or a <br> tag shows no text. " +
          "Put a <link> in the head.",
      },
    ]);
    expect(parseMarkdown("Wrap it in <em> tags, then close with </em> later.")).toEqual([
      { kind: "paragraph", text: "Wrap it in <em> tags, then close with </em> later." },
    ]);
    // HTML is written in lower or upper case; in mixed case a name is a type's.
    expect(parseMarkdown("Use Array<Input>, List<Link> or Box<Object>.")).toEqual([
      { kind: "paragraph", text: "Use Array<Input>, List<Link> or Box<Object>." },
    ]);
    expect(parseMarkdown("<div> elements are block-level.")).toEqual([
      { kind: "paragraph", text: "<div> elements are block-level." },
    ]);
  });

  it("drops admonition markers, keeping their titles and content, but not inside code", () => {
    const markdown = [
      ":::tip Save your key",
      "Keys are shown once.",
      ":::",
      "",
      "```md",
      ":::note",
      "```",
      "",
      "::: warning",
      "Budgets are hard limits.",
      ":::",
      "",
      ":::info[Since 0.2]",
      "Exports are signed.",
      ":::",
      "",
      "::: {.warning}",
      "Keys never leave the server.",
      ":::",
    ].join("\n");
    expect(parseMarkdown(markdown)).toEqual([
      { kind: "paragraph", text: "Save your key\nKeys are shown once." },
      { kind: "code", text: "```md\n:::note\n```" },
      { kind: "paragraph", text: "Budgets are hard limits." },
      { kind: "paragraph", text: "Since 0.2\nExports are signed." },
      { kind: "paragraph", text: "Keys never leave the server." },
    ]);
  });

  it("reads a marker-like line that is no marker in one pass, and keeps it", () => {
    // U+2028 is no line break to Markdown; a pattern that backtracked over the spaces took minutes.
    const spaced = `:::${" ".repeat(20_000)}\u2028 x`;
    expect(parseMarkdown(spaced)).toEqual([{ kind: "paragraph", text: expect.stringContaining("x") }]);
  });
});

describe("parseMdx", () => {
  it("drops ESM and comments, and keeps the text inside components", () => {
    const mdx = [
      "---",
      "sidebar_position: 2",
      "---",
      'import Tabs from "@theme/Tabs";',
      "import {",
      "  TabItem,",
      '} from "@theme/TabItem";',
      "export const meta = { draft: false };",
      "",
      "export const authors = [",
      "",
      '  { name: "Ada" },',
      "];",
      "",
      "# Install",
      "",
      "{/* Keep the two tabs in step. */}",
      "Pick your package manager.",
      "",
      '<Tabs>\n  <TabItem value="npm">',
      "",
      "Run the installer with npm.",
      "",
      "  </TabItem>\n</Tabs>",
      "",
      "```js",
      'import fineflow from "fineflow";',
      "```",
    ].join("\n");
    expect(parseMdx(mdx)).toEqual([
      { kind: "heading", level: 1, text: "Install" },
      { kind: "paragraph", text: "Pick your package manager." },
      { kind: "paragraph", text: "Run the installer with npm." },
      { kind: "code", text: '```js\nimport fineflow from "fineflow";\n```' },
    ]);
  });

  it("reads every tag as a component's or HTML's, keeping the text inside", () => {
    expect(parseMdx('Click <Button kind="primary">Save</Button> now.<Icon />')).toEqual([
      { kind: "paragraph", text: "Click Save now." },
    ]);
    expect(parseMdx("Run <Tabs>it</Tabs> <script>track()</script> once.")).toEqual([
      { kind: "paragraph", text: "Run it once." },
    ]);
  });

  it("keeps a comment written in a code span, and the text after a comment left open", () => {
    expect(parseMdx("Write `{/* note */}` to leave a note.{/* gone */}")).toEqual([
      { kind: "paragraph", text: "Write `{/* note */}` to leave a note." },
    ]);
    const open = `Before.{/* open${" {/* again".repeat(20_000)}`;
    expect(parseMdx(open)).toEqual([
      { kind: "paragraph", text: expect.stringMatching(/^Before\.\{\/\* open/) },
    ]);
  });

  it("keeps an export line in plain Markdown, where it is prose", () => {
    expect(parseMarkdown("export PATH=$HOME/bin:$PATH")).toEqual([
      { kind: "paragraph", text: "export PATH=$HOME/bin:$PATH" },
    ]);
  });
});
