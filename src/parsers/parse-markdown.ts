import { lexer, type MarkedToken, type Token, type Tokens } from "marked";
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
 * not text. Its components (`<Tabs>`, `<TabItem>`) are read as HTML, keeping the text inside them.
 */
export function parseMdx(mdx: string): Block[] {
  return markdownBlocks(mdx, true);
}

function markdownBlocks(source: string, mdx: boolean): Block[] {
  const prose = outsideCode(source.replace(FRONT_MATTER, ""), (lines) => withoutSiteSyntax(lines, mdx));
  return markedTokens(lexer(prose)).flatMap(tokenBlocks);
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

function tokenBlocks(token: MarkedToken): Block[] {
  switch (token.type) {
    case "heading":
      return bodyOrHeading(inlineText(token.tokens), token.depth);
    case "paragraph":
    case "text":
      return bodyOrHeading(token.tokens ? inlineText(token.tokens) : decodeHtmlEntities(token.text));
    case "list":
      return [{ kind: "list", text: listLines(token, 0).join("\n") }];
    case "code":
      return codeBlock(token);
    case "table":
      return [{ kind: "table", text: tableText(token) }];
    case "blockquote":
      return bodyOrHeading(quoteLines(blocksText(markedTokens(token.tokens).flatMap(tokenBlocks))));
    case "html":
      // Raw HTML goes through the HTML parser, so an embedded <table> or <ul> keeps its structure.
      return parseHtml(token.text);
    default:
      return [];
  }
}

function bodyOrHeading(text: string, level?: number): Block[] {
  if (!text.trim()) return [];
  return level === undefined ? [{ kind: "paragraph", text }] : [{ kind: "heading", level, text }];
}

function blocksText(blocks: readonly Block[]): string {
  return blocks.map((block) => block.text).join("\n\n");
}

/**
 * Inline Markdown to plain text; inline code keeps its backticks, since code is meaningful to a model. What
 * sits between <sup> and </sup> (or <sub>) is written as raised or lowered text (`shiftedText`).
 */
function inlineText(tokens: readonly Token[]): string {
  let text = "";
  let shifted: { tag: "sup" | "sub"; from: number } | undefined;
  for (const token of markedTokens(tokens)) {
    const tag = token.type === "html" ? SHIFT_TAG.exec(token.text) : null;
    if (!tag) text += inlineTokenText(token);
    else if (!tag[1]) shifted = { tag: tag[2]?.toLowerCase() as "sup" | "sub", from: text.length };
    else if (shifted) {
      const inner = text.slice(shifted.from).trim();
      text = text.slice(0, shifted.from) + shiftedText(shifted.tag, inner, text[shifted.from - 1]);
      shifted = undefined;
    }
  }
  return text.trim();
}

const SHIFT_TAG = /^<(\/?)(sup|sub)\s*>$/i;

function inlineTokenText(token: MarkedToken): string {
  switch (token.type) {
    case "text":
      return token.tokens ? inlineText(token.tokens) : decodeHtmlEntities(token.text);
    case "escape":
      return token.text;
    case "codespan":
      // Code spans are literal in Markdown: "&amp;" inside one is the five characters, not "&".
      return `\`${token.text}\``;
    case "br":
      return "\n";
    case "html":
      // Inline tags are dropped (their content arrives as separate text tokens), but a <br> is a line break.
      return /^<br\s*\/?>$/i.test(token.text) ? "\n" : "";
    case "strong":
    case "em":
    case "del":
    case "link":
      return inlineText(token.tokens);
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

function tableText(table: Tokens.Table): string {
  const cellTexts = (cells: Tokens.TableCell[]) => cells.map((cell) => inlineText(cell.tokens));
  return pipeTable([cellTexts(table.header), ...table.rows.map(cellTexts)]);
}

function listLines(list: Tokens.List, depth: number): string[] {
  const start = typeof list.start === "number" ? list.start : 1;
  return list.items.flatMap((item, i) => listItem(item, list.ordered ? `${start + i}.` : "-", depth));
}

/** The item's own text on its marker line, then its nested lists one level deeper. */
function listItem(item: Tokens.ListItem, marker: string, depth: number): string[] {
  const children = markedTokens(item.tokens);
  const ownText = blocksText(children.filter((child) => child.type !== "list").flatMap(itemChildBlocks));
  const nested = children.flatMap((child) => (child.type === "list" ? listLines(child, depth + 1) : []));
  const box = item.task ? `[${item.checked ? "x" : " "}] ` : "";
  return [...listItemLines(marker, box + ownText, depth), ...nested];
}

function itemChildBlocks(token: MarkedToken): Block[] {
  return token.type === "checkbox" ? [] : tokenBlocks(token);
}
