import { Lexer, lexer, type MarkedToken, type Token, type Tokens } from "marked";
import type { Block } from "../core/blocks.js";
import { decodeHtmlEntities, parseHtml } from "./parse-html.js";
import { fenceCode, listItemLines, pipeTable, quoteLines, shiftedText } from "./render-markdown.js";

// YAML front matter is metadata for site generators, not prose; only at the very start of the file.
const FRONT_MATTER = /^---[ \t]*\n[\s\S]*?\n(?:---|\.\.\.)[ \t]*(?:\n|$)/;

/** Markdown (CommonMark + GFM tables and task lists) to blocks. */
export function parseMarkdown(markdown: string): Block[] {
  return markdownBlocks(markdown, false);
}

/**
 * MDX, the Markdown of Docusaurus, Nextra or Storybook sites, to blocks: Markdown whose ESM statements
 * (`import Tabs from "@theme/Tabs"`) and comments (a JavaScript comment in braces) are code for the site,
 * not text. Its components (`<Tabs>`, `<TabItem>`) are read as HTML, keeping the text inside them: there,
 * unlike in Markdown, every tag is markup, as MDX reads `<` before a name as JSX, never as prose.
 */
export function parseMdx(mdx: string): Block[] {
  return markdownBlocks(mdx, true);
}

function markdownBlocks(source: string, mdx: boolean): Block[] {
  const prose = outsideCode(source.replace(FRONT_MATTER, ""), (lines) => withoutSiteSyntax(lines, mdx));
  return markedTokens(lexer(prose)).flatMap((token) => tokenBlocks(token, mdx));
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** Applies `edit` to each run of lines outside fenced code blocks, leaving the code as it is. */
function outsideCode(source: string, edit: (lines: string[]) => string[]): string {
  const out: string[] = [];
  let prose: string[] = [];
  let fence: string | undefined;
  for (const line of source.split("\n")) {
    const marker = FENCE.exec(line)?.[1];
    if (fence === undefined && marker) {
      out.push(...edit(prose), line);
      prose = [];
      fence = marker;
    } else if (fence !== undefined) {
      out.push(line);
      if (
        marker &&
        marker[0] === fence[0] &&
        marker.length >= fence.length &&
        !line.trim().slice(marker.length)
      ) {
        fence = undefined;
      }
    } else {
      prose.push(line);
    }
  }
  return [...out, ...edit(prose)].join("\n");
}

// Docusaurus's admonitions (`:::tip Title`, `:::tip[Title]` … `:::`), also Pandoc's fenced divs
// (`::: {.warning}`): the markers are layout; a title stays as a line of its own.
const ADMONITION = /^ {0,3}:{3,}(.*)$/;
/** What opens an admonition before its title: its type (`tip`) or Pandoc's attributes (`{.warning}`). */
const ADMONITION_TYPE = /^(?:\{[^}]*\}|[\w-]+)/;
// In MDX, a line that starts with `import` or `export` and a space starts ESM, which runs to a blank line
// where its JavaScript is complete: one inside an open `{`, `[` or `(` does not end it.
const ESM = /^(?:import|export)\s/;
const OPENERS = /[{[(]/g;
const CLOSERS = /[}\])]/g;

/** How many more brackets a line of JavaScript opens than it closes (strings are not told apart). */
const bracketDepth = (line: string) =>
  (line.match(OPENERS)?.length ?? 0) - (line.match(CLOSERS)?.length ?? 0);

function admonitionTitle(marker: string): string {
  const title = marker.trim().replace(ADMONITION_TYPE, "").trim();
  return title.startsWith("[") && title.endsWith("]") ? title.slice(1, -1).trim() : title;
}

/**
 * MDX's comments (`{/*` to `*\/}`), but not what a code span shows of one: a page about MDX writes them in
 * backticks. A comment left open ends nothing: the text after it stays.
 */
function withoutMdxComments(text: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const open = text.indexOf("{/*", at);
    if (open < 0) break;
    const close = text.indexOf("*/}", open + 3);
    if (close < 0) break;
    const line = text.slice(text.lastIndexOf("\n", open) + 1, open);
    const inCode = (line.match(/`/g)?.length ?? 0) % 2 === 1;
    out += text.slice(at, inCode ? close + 3 : open);
    at = close + 3;
  }
  return out + text.slice(at);
}

function withoutSiteSyntax(lines: string[], mdx: boolean): string[] {
  const kept: string[] = [];
  let inEsm = false;
  let depth = 0;
  for (const line of lines) {
    if (mdx && !inEsm && ESM.test(line)) {
      inEsm = true;
      depth = 0;
    }
    if (inEsm && (line.trim() !== "" || depth > 0)) {
      depth += bracketDepth(line);
      continue;
    }
    inEsm = false;
    const admonition = ADMONITION.exec(line);
    if (admonition) {
      const title = admonitionTitle(admonition[1] ?? "");
      if (title) kept.push(title);
      continue;
    }
    kept.push(line);
  }
  return mdx ? withoutMdxComments(kept.join("\n")).split("\n") : kept;
}

// marked types its tokens as MarkedToken | Generic; Generic tokens only come from extensions, and none are
// registered, so the narrower type is the true one.
function markedTokens(tokens: readonly Token[] = []): MarkedToken[] {
  return tokens as MarkedToken[];
}

function tokenBlocks(token: MarkedToken, mdx: boolean): Block[] {
  switch (token.type) {
    case "heading":
      return bodyOrHeading(inlineText(token.tokens, mdx), token.depth);
    case "paragraph":
    case "text":
      return bodyOrHeading(token.tokens ? inlineText(token.tokens, mdx) : decodeHtmlEntities(token.text));
    case "list":
      return [{ kind: "list", text: listLines(token, 0, mdx).join("\n") }];
    case "code":
      return codeBlock(token);
    case "table":
      return [{ kind: "table", text: tableText(token, mdx) }];
    case "blockquote": {
      const blocks = markedTokens(token.tokens).flatMap((child) => tokenBlocks(child, mdx));
      return bodyOrHeading(quoteLines(blocksText(blocks)));
    }
    case "html":
      // Raw HTML goes through the HTML parser, so an embedded <table> or <ul> keeps its structure. A block
      // that opens with a tag HTML does not have (`<T>`, `<instructions>` alone on a line) is prose.
      return mdx || isHtml(token.text)
        ? parseHtml(token.text)
        : bodyOrHeading(inlineText(Lexer.lexInline(token.text), mdx));
    default:
      return [];
  }
}

// HTML's elements that a block of it may open with: CommonMark's block names, the raw-text ones, and the
// inline and embedded ones.
const HTML_ELEMENTS = new Set([
  ...["address", "article", "aside", "base", "basefont", "blockquote", "body", "caption", "center", "col"],
  ...["colgroup", "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure"],
  ...["footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr"],
  ...["html", "iframe", "legend", "li", "link", "main", "menu", "menuitem", "meta", "nav", "noframes", "ol"],
  ...["optgroup", "option", "p", "param", "search", "section", "summary", "table", "tbody", "td", "tfoot"],
  ...["th", "thead", "title", "tr", "track", "ul", "pre", "script", "style", "textarea", "noscript"],
  ...["template", "img", "picture", "source", "video", "audio", "svg", "math", "canvas", "object", "embed"],
  ...["br", "wbr", "input", "button", "label", "select"],
]);

/** Whether an HTML block is HTML: it opens with a comment, a declaration or a tag HTML has. */
function isHtml(block: string): boolean {
  const name = TAG.exec(block.trimStart())?.[2]?.toLowerCase();
  return name === undefined || HTML_ELEMENTS.has(name) || FORMATTING.has(name);
}

function bodyOrHeading(text: string, level?: number): Block[] {
  if (!text.trim()) return [];
  return level === undefined ? [{ kind: "paragraph", text }] : [{ kind: "heading", level, text }];
}

function blocksText(blocks: readonly Block[]): string {
  return blocks.map((block) => block.text).join("\n\n");
}

// Tags that format the text they wrap. Only such a tag and its closing tag are markup, dropped for the text
// between them; any other tag is prose, kept as written: `List<String>`, `<Enter>`, Llama's `<<SYS>>`, "add
// a <div> element", or a <b> never closed.
const FORMATTING = new Set([
  ...["a", "abbr", "b", "big", "cite", "code", "del", "dfn", "em", "font", "i", "ins", "kbd", "mark", "q"],
  ...["s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var"],
]);
/** A tag's start: whether it closes, and its name. */
const TAG = /^<(\/?)([a-z][\w-]*)/i;

/**
 * Inline Markdown to plain text; inline code keeps its backticks, since code is meaningful to a model, also
 * when written <code>. What sits between <sup> and </sup> (or <sub>) is written as raised or lowered text
 * (`shiftedText`).
 */
function inlineText(tokens: readonly Token[], mdx: boolean): string {
  let text = "";
  // Formatting tags not closed yet: where each starts in the text, and as what it stands there until its
  // closing tag, if any, takes it out.
  const open: { name: string; at: number; shown: string }[] = [];
  for (const token of markedTokens(tokens)) {
    const tag = token.type === "html" ? formattingTag(token.text) : undefined;
    const i = tag?.closes ? open.findLastIndex((o) => o.name === tag.name) : -1;
    const opener = open[i];
    if (tag && !tag.closes) {
      const shown = mdx ? "" : token.raw;
      open.push({ name: tag.name, at: text.length, shown });
      text += shown;
    } else if (tag && opener) {
      // Tags left open inside the pair stay as they are shown.
      open.length = i;
      const { at, shown } = opener;
      text = text.slice(0, at) + formatted(tag.name, text.slice(at + shown.length), text[at - 1]);
    } else {
      text += inlineTokenText(token, mdx);
    }
  }
  return text.trim();
}

/** A formatting tag that can open or close a pair: its name, and whether it closes. */
function formattingTag(html: string): { name: string; closes: boolean } | undefined {
  const tag = TAG.exec(html);
  const name = tag?.[2]?.toLowerCase() ?? "";
  return FORMATTING.has(name) && !html.endsWith("/>") ? { name, closes: tag?.[1] === "/" } : undefined;
}

/** The text a pair of formatting tags wraps, as it reads without them. */
function formatted(tag: string, inner: string, before: string | undefined): string {
  if (tag === "sup" || tag === "sub") return shiftedText(tag, inner.trim(), before);
  return tag === "code" ? `\`${inner}\`` : inner;
}

/**
 * An inline tag that is not one of a pair of formatting tags: kept as written, but a comment (a note to
 * the writer), an image, a word-break hint and a formatting tag closed on itself (an anchor, `<a id="x"/>`)
 * show no text, and a <br> is a line break. In MDX every tag is a component's or HTML's, and shows no text.
 */
function loneTagText(html: string, mdx: boolean): string {
  if (/^<br\s*\/?>$/i.test(html)) return "\n";
  if (mdx) return "";
  const name = TAG.exec(html)?.[2]?.toLowerCase() ?? "";
  const empty = name === "img" || name === "wbr" || (FORMATTING.has(name) && html.endsWith("/>"));
  return empty || html.startsWith("<!--") ? "" : html;
}

function inlineTokenText(token: MarkedToken, mdx: boolean): string {
  switch (token.type) {
    case "text":
      return token.tokens ? inlineText(token.tokens, mdx) : decodeHtmlEntities(token.text);
    case "escape":
      return token.text;
    case "codespan":
      // Code spans are literal in Markdown: "&amp;" inside one is the five characters, not "&".
      return `\`${token.text}\``;
    case "br":
      return "\n";
    case "html":
      return loneTagText(token.text, mdx);
    case "strong":
    case "em":
    case "del":
    case "link":
      return inlineText(token.tokens, mdx);
    case "image":
      return token.text;
    default:
      return "";
  }
}

function codeBlock(token: Tokens.Code): Block[] {
  // Indented code keeps the blank lines that ended it; they are layout, not code.
  const code = token.text.replace(/\n+$/, "");
  return code.trim() ? [{ kind: "code", text: fenceCode(code, codeLanguage(token)) }] : [];
}

function codeLanguage(token: Tokens.Code): string | undefined {
  // An info string may carry more than the language ("ts title=a.ts"); the language is its first word.
  return token.lang?.trim().split(/\s+/)[0] || undefined;
}

function tableText(table: Tokens.Table, mdx: boolean): string {
  const cellTexts = (cells: Tokens.TableCell[]) => cells.map((cell) => inlineText(cell.tokens, mdx));
  return pipeTable([cellTexts(table.header), ...table.rows.map(cellTexts)]);
}

function listLines(list: Tokens.List, depth: number, mdx: boolean): string[] {
  const start = typeof list.start === "number" ? list.start : 1;
  return list.items.flatMap((item, i) => listItem(item, list.ordered ? `${start + i}.` : "-", depth, mdx));
}

/** The item's own text on its marker line, then its nested lists one level deeper. */
function listItem(item: Tokens.ListItem, marker: string, depth: number, mdx: boolean): string[] {
  const children = markedTokens(item.tokens);
  const own = children.filter((child) => child.type !== "list" && child.type !== "checkbox");
  const ownText = blocksText(own.flatMap((child) => tokenBlocks(child, mdx)));
  const nested = children.flatMap((child) => (child.type === "list" ? listLines(child, depth + 1, mdx) : []));
  const box = item.task ? `[${item.checked ? "x" : " "}] ` : "";
  return [...listItemLines(marker, box + ownText, depth), ...nested];
}
