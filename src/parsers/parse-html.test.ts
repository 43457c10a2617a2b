import { describe, expect, it } from "vitest";
import { parseHtml } from "./parse-html.js";

describe("parseHtml", () => {
  it("drops page chrome and scripts, keeping headings and paragraphs", () => {
    const html = `<html><head><title>T</title><style>p{}</style></head><body>
      <header>Site</header><nav><a href="/">Home</a></nav>
      <h1>Fine   tuning</h1><script>alert("x")</script><noscript>Enable JS</noscript>
      <div>Loose <b>div</b> text<p>A   paragraph&nbsp;with&amp;entities &lt;ok&gt;.</p>tail</div>
      <template><p>hidden</p></template><footer>© 2026</footer></body></html>`;
    expect(parseHtml(html)).toEqual([
      { kind: "heading", level: 1, text: "Fine tuning" },
      { kind: "paragraph", text: "Loose div text" },
      { kind: "paragraph", text: "A paragraph with&entities <ok>." },
      { kind: "paragraph", text: "tail" },
    ]);
  });

  it("turns nested ul/ol into an indented Markdown list, honouring start", () => {
    const html = `<ol start="2"><li>Prepare<ul><li>data</li><li><p>keys</p></li></ul></li><li>Train</li></ol>`;
    expect(parseHtml(html)).toEqual([{ kind: "list", text: "2. Prepare\n  - data\n  - keys\n3. Train" }]);
  });

  it("keeps pre text verbatim and takes the language from class='language-x'", () => {
    const html = `<pre><code class="hljs language-python">def f():\n    return 1 &lt; 2\n</code></pre>`;
    expect(parseHtml(html)).toEqual([{ kind: "code", text: "```python\ndef f():\n    return 1 < 2\n```" }]);
  });

  it("renders a table as a pipe table with th/td and escaped pipes", () => {
    const html = `<table><thead><tr><th>Plan</th><th>Limit</th></tr></thead>
      <tbody><tr><td>Pro | Team</td><td><p>10</p><p>GB</p></td></tr><tr><td>Free</td></tr></tbody></table>`;
    expect(parseHtml(html)).toEqual([
      { kind: "table", text: "| Plan | Limit |\n| --- | --- |\n| Pro \\| Team | 10 GB |\n| Free |  |" },
    ]);
  });

  it("keeps <br> as a line break and inline code in backticks", () => {
    expect(parseHtml("<p>Run <code>npm ci</code><br>then   start.</p>")).toEqual([
      { kind: "paragraph", text: "Run `npm ci`\nthen start." },
    ]);
  });
});
