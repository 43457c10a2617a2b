import { Lexer, lexer, type MarkedToken, type Token, type Tokens } from "marked";
import type { Block } from "../core/blocks.js";
import { decodeHtmlEntities, parseHtml } from "./parse-html.js";
import {
  fenceCode,
  listItemLines,
  listItemText,
  pipeTable,
  quoteLines,
  shiftedText,
} from "./render-markdown.js";

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
      return [{ kind: "list", text: listLines(token, mdx).join("\n") }];
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

// The names HTML has: CommonMark's block names, the raw-text ones, the inline and embedded ones, and those
// that format the text they wrap. Any other name in angle brackets is prose, kept as written: `List<String>`,
// `<Enter>`, Llama's `<<SYS>>`.
const HTML_ELEMENTS = new Set([
  ...["address", "article", "aside", "base", "basefont", "blockquote", "body", "caption", "center", "col"],
  ...["colgroup", "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure"],
  ...["footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr"],
  ...["html", "iframe", "legend", "li", "link", "main", "menu", "menuitem", "meta", "nav", "noframes", "ol"],
  ...["optgroup", "option", "p", "param", "search", "section", "summary", "table", "tbody", "td", "tfoot"],
  ...["th", "thead", "title", "tr", "track", "ul", "pre", "script", "style", "textarea", "noscript"],
  ...["template", "img", "picture", "source", "video", "audio", "svg", "math", "canvas", "object", "embed"],
  ...["br", "wbr", "input", "button", "label", "select", "area"],
  ...["a", "abbr", "b", "big", "cite", "code", "del", "dfn", "em", "font", "i", "ins", "kbd", "mark", "q"],
  ...["s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var"],
]);
// Elements that have no content or closing tag: markup even alone.
const VOID = new Set([
  ...["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source"],
  ...["track", "wbr"],
]);
// Of those, the ones written bare as markup: a line break, a word-break hint, a rule.
const BREAKS = new Set(["br", "wbr", "hr"]);
// Elements whose content no reader sees, dropped with them as parseHtml drops them: code and styles for the
// browser, a template's content (until a script copies it), what shows only without JavaScript, and a
// drawing's shapes.
const UNSHOWN = new Set(["script", "style", "template", "noscript", "svg"]);
/** A tag's start: whether it closes, and its name. */
const TAG = /^<(\/?)([a-z][\w-]*)/i;
/** A tag with no attributes. */
const BARE_TAG = /^<\/?[a-z][\w-]*\s*>$/i;
/** A tag named in prose, not used: bare, and followed by the word "tag" or "element" ("<em> tags"). */
const NAMED_TAG = /^<\/?[a-zA-Z][\w-]*\s*>\s+(?:tags?|elements?)\b/;

/**
 * Whether an HTML block is HTML: it opens with a comment, a declaration or a tag HTML has, one not named in
 * prose ("<div> elements are block-level").
 */
function isHtml(block: string): boolean {
  const start = block.trimStart();
  const name = TAG.exec(start)?.[2]?.toLowerCase();
  return name === undefined || (HTML_ELEMENTS.has(name) && !NAMED_TAG.test(start));
}

function bodyOrHeading(text: string, level?: number): Block[] {
  if (!text.trim()) return [];
  return level === undefined ? [{ kind: "paragraph", text }] : [{ kind: "heading", level, text }];
}

function blocksText(blocks: readonly Block[]): string {
  return blocks.map((block) => block.text).join("\n\n");
}

/**
 * Inline Markdown to plain text; inline code keeps its backticks, since code is meaningful to a model, also
 * when written <code>. What sits between <sup> and </sup> (or <sub>) is written as raised or lowered text
 * (`shiftedText`).
 */
function inlineText(tokens: readonly Token[], mdx: boolean): string {
  const list = markedTokens(tokens);
  let text = "";
  // Where a token last showed nothing (markup, dropped): spaces on both sides of it show as one, as in a
  // browser, so `Text <script>…</script> more` reads "Text more".
  let seam = -1;
  const add = (shown: string) => {
    text = seam === text.length ? joinedOverMarkup(text, shown) : text + shown;
    if (!shown) seam = text.length;
  };
  // Tags not closed yet: where each starts in the text, and as what it stands there until its closing tag,
  // if any, takes it out.
  const open: { name: string; at: number; shown: string }[] = [];
  for (const [k, token] of list.entries()) {
    const tag = token.type === "html" ? markupTag(token.text, list[k + 1]?.raw ?? "", mdx) : undefined;
    const i = tag?.role === "close" ? open.findLastIndex((o) => o.name === tag.name) : -1;
    const opener = open[i];
    if (tag?.role === "open") {
      // A bare tag shows as written until its closing tag makes it markup: "add a <div> element".
      const shown = !mdx && BARE_TAG.test(token.raw) ? token.raw : "";
      open.push({ name: tag.name, at: text.length, shown });
      add(shown);
    } else if (tag && opener) {
      // Tags left open inside the pair stay as they are shown.
      open.length = i;
      const { at, shown } = opener;
      const before = text.slice(0, at);
      text = joinedOverMarkup(before, formatted(tag.name, text.slice(at + shown.length), before.at(-1)));
      seam = text.length;
    } else if (tag?.role === "alone" || (tag && mdx)) {
      add(tag.name === "br" ? "\n" : "");
    } else {
      add(inlineTokenText(token, mdx));
    }
  }
  return text.trim();
}

/**
 * An inline tag that is markup, not a word in angle brackets: one HTML has, written in lower or upper case as
 * HTML is (in mixed case it is a type's, `Array<Input>`), unless bare and named in prose (`after` is what
 * follows it). It opens or closes a pair, or stands alone: an element with no content, or a tag closed on
 * itself (an anchor, `<a id="x"/>`). In MDX every tag is a component's or HTML's.
 */
function markupTag(
  html: string,
  after: string,
  mdx: boolean,
): { name: string; role: "open" | "close" | "alone" } | undefined {
  const [, slash, written = ""] = TAG.exec(html) ?? [];
  if (!written) return undefined;
  const name = written.toLowerCase();
  const htmlCase = written === name || written === written.toUpperCase();
  if (!mdx && !(HTML_ELEMENTS.has(name) && htmlCase && !NAMED_TAG.test(html + after))) return undefined;
  if (slash) return { name, role: "close" };
  if (!VOID.has(name) && !html.endsWith("/>")) return { name, role: "open" };
  // Bare, an element of no content is markup only as a break: "add a <link> to the head" names one.
  return mdx || !BARE_TAG.test(html) || BREAKS.has(name) ? { name, role: "alone" } : undefined;
}

/** `before` and `after` joined where markup between them was dropped: spaces on both sides show as one. */
function joinedOverMarkup(before: string, after: string): string {
  return /[ \t]$/.test(before) ? before + after.replace(/^[ \t]+/, "") : before + after;
}

/** The text a pair of tags wraps, as it reads without them. */
function formatted(tag: string, inner: string, before: string | undefined): string {
  if (UNSHOWN.has(tag)) return "";
  if (tag === "sup" || tag === "sub") return shiftedText(tag, inner.trim(), before);
  return tag === "code" ? `\`${inner}\`` : inner;
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
      // What is not markup is prose, kept as written; but a comment is a note to the writer, and in MDX
      // nothing in angle brackets is prose.
      return mdx || token.text.startsWith("<!--") ? "" : token.text;
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

function listLines(list: Tokens.List, mdx: boolean): string[] {
  const start = typeof list.start === "number" ? list.start : 1;
  return list.items.flatMap((item, i) => listItem(item, list.ordered ? `${start + i}.` : "-", mdx));
}

/** The item's blocks in their order (paragraphs, sub-lists, code) under its marker, as an HTML list's. */
function listItem(item: Tokens.ListItem, marker: string, mdx: boolean): string[] {
  const blocks = markedTokens(item.tokens).flatMap((child) => tokenBlocks(child, mdx));
  const box = item.task ? `[${item.checked ? "x" : " "}] ` : "";
  return listItemLines(marker, box + listItemText(blocks), 0);
}
