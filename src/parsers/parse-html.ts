import { HTMLElement, type Node, parse, TextNode } from "node-html-parser";
import type { Block } from "../core/blocks.js";
import {
  fenceCode,
  listItemLines,
  listItemText,
  pipeTable,
  quoteLines,
  shiftedText,
} from "./render-markdown.js";

// Page chrome and non-content: none of it is the document's text. "head" goes too, or <title> would
// repeat the first heading as a paragraph.
const DROPPED = new Set(["script", "style", "nav", "footer", "noscript", "template", "head", "svg"]);

// Elements that end the running paragraph and start a new one; everything else is treated as inline.
const CONTAINERS = new Set([
  ...["html", "body", "main", "article", "section", "aside", "div", "p", "address", "center", "hgroup"],
  ...["figure", "figcaption", "details", "summary", "fieldset", "form", "dl", "dt", "dd", "li", "hr"],
  // The parts of a layout table; a data table is rendered whole.
  ...["table", "caption", "th", "td"],
]);

// Raw-text parsing is only for elements whose content is dropped; <pre> is parsed, so its <code> child
// (where the language class usually sits) is visible.
const PARSE_OPTIONS = { blockTextElements: { script: false, style: false, noscript: false } };

type Renderer = (element: HTMLElement) => Block[];

const listBlock: Renderer = (list) => bodyBlock("list", renderList(list).join("\n"));

const RENDERERS = new Map<string, Renderer>([
  ...["h1", "h2", "h3", "h4", "h5", "h6"].map((tag): [string, Renderer] => [tag, headingBlock]),
  ["ul", listBlock],
  ["ol", listBlock],
  ["pre", codeBlock],
  ["table", tableBlock],
  ["blockquote", quoteBlock],
]);

// The parser keeps a doctype (or an XHTML page's XML declaration) as text, which would open the document.
const PROLOG = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!doctype[^>]*>)?/i;

// Chrome is a block of the page's layout. On a phrasing element (<b>, <span>, <a>) a class such as "header"
// names a style: Underscore.js's docs title every function with a <b class="header">.
const LAYOUT_BLOCKS = new Set([...CONTAINERS, "header", "ul", "ol", "menu"]);

// Words of a class or id (split at "-" and "_") that mark a site's navigation in any compound: "nav-panel",
// "navbar", "mw-navigation", "site-breadcrumbs"...
const NAV_WORDS = new Set(["nav", "navbar", "navigation", "breadcrumb", "breadcrumbs", "sidebar", "menu"]);
// "header" and "footer" in a class or id mark the site's own ("site-footer", "footer-widgets", "l-footer"),
// except where they name the part of a component that holds content: "card-header", "modal-footer",
// "footer-note", "header-section".
const COMPONENT_PART =
  /(?:^|[-_])(?:card|modal|panel|dialog|popover|accordion|table|article|post|entry|comment|section)[-_](?:header|footer)|(?:header|footer)[-_](?:note|notes|section|text|title|content|cell)(?:$|[-_])/;
const CHROME_ROLES = new Set(["navigation", "contentinfo"]);
// A class or id naming cookies, consent or the GDPR in any compound marks a consent banner: "cookie-banner",
// "cookieconsent", Cookiebot's "CybotCookiebotDialog", OneTrust's "onetrust-consent-sdk". Only on a block: a
// link to "cookie settings" in a sentence is part of it.
const CONSENT_NAME = /cookie|consent|gdpr/;
const HEADING_TAGS = new Set(["h1", "h2", "h3", "h4", "h5", "h6"]);
const HEADINGS = [...HEADING_TAGS].join(", ");

// An inline style a browser renders nothing for (`visibility: collapse` hides a table row).
const HIDING_STYLE =
  /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!important\s*)?(?:;|$)/i;

/**
 * A block of links with little text of its own is a menu, a site map or a list of related pages, however
 * it is marked up: one with at least this many links, whose text is at least this share link text, and
 * which has at most this much text besides. Only a list, a table or a section: a paragraph of links
 * ("for Windows, macOS or Linux") is a sentence.
 */
const MIN_MENU_LINKS = 3;
const MIN_MENU_LINK_SHARE = 0.7;
const MAX_MENU_OWN_CHARS = 200;
const MENU_BLOCKS = new Set(["div", "section", "aside", "ul", "ol", "dl", "menu", "table", "td"]);

// Pygments' line numbers, inline ("linenos", "lineno" before 2.7) or in a table cell beside the code: a
// reader's aid, not the code.
const LINE_NUMBERS = ["linenos", "lineno"];

/**
 * A table whose cells hold headings, code, tables or several paragraphs lays out a page (an old site's
 * menu and article side by side) or a listing beside its line numbers: a pipe table's one-line cells would
 * flatten them, so its cells are read as blocks.
 */
const MIN_LAYOUT_CELL_PARAGRAPHS = 3;

/**
 * HTML to blocks. A page (`chrome`, the default) loses its site's navigation, banners and menus; what
 * mammoth makes of a DOCX has none, and a Word list of links is the document's own.
 */
export function parseHtml(html: string, { chrome = true } = {}): Block[] {
  const root = parse(html.replace(PROLOG, ""), PARSE_OPTIONS);
  return collectBlocks(root, chrome ? pageText(root) : undefined);
}

/** Decodes character references (&amp;, &#233;) in text that is not otherwise HTML. */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes("&")) return text;
  // Escaping "<" first keeps a literal "a < b" from being read as the start of a tag.
  return parse(text.replace(/</g, "&lt;"), PARSE_OPTIONS).text;
}

/** How much visible text an element holds, and how much of it is in how many links. */
interface TextStats {
  chars: number;
  linkChars: number;
  links: number;
}

/** The text statistics of every element of a page, gathered in one walk, and the whole page's. */
interface PageText {
  chars: number;
  of: Map<Node, TextStats>;
}

/**
 * Each element's statistics leave out what is dropped whatever its size (scripts, `<nav>`, `<footer>`):
 * counted, a layout `<div>` around a `<nav>` of 30 links and a short article looked like a menu, and went.
 * The page's own size counts everything, as "half the page" is measured against what the reader sees.
 */
function pageText(root: Node): PageText {
  const of = new Map<Node, TextStats>();
  let pageChars = 0;
  const count = (node: Node, inLink: boolean, dropped: boolean): TextStats => {
    if (node instanceof TextNode) {
      const chars = node.rawText.replace(/\s+/g, "").length;
      pageChars += chars;
      return dropped
        ? { chars: 0, linkChars: 0, links: 0 }
        : { chars, linkChars: inLink ? chars : 0, links: 0 };
    }
    const element = node instanceof HTMLElement && node !== root ? node : undefined; // the root has no tag
    const link = element?.tagName === "A" && element.hasAttribute("href");
    const inDropped =
      dropped ||
      (element !== undefined && (DROPPED.has(element.tagName.toLowerCase()) || isUnrendered(element)));
    const stats = { chars: 0, linkChars: 0, links: link && !inDropped ? 1 : 0 };
    for (const child of node.childNodes) {
      const inner = count(child, inLink || link, inDropped);
      stats.chars += inner.chars;
      stats.linkChars += inner.linkChars;
      stats.links += inner.links;
    }
    of.set(node, stats);
    return stats;
  };
  count(root, false, false);
  return { chars: pageChars, of };
}

/**
 * `page`, the page's text statistics, when chrome is to be dropped: an element that looks like chrome but
 * holds half the page or more is a wrapper around the content, and stays.
 */
function collectBlocks(root: Node, page?: PageText): Block[] {
  const collector = new BlockCollector(page);
  collector.visitChildren(root);
  collector.flush();
  return collector.blocks;
}

/** Walks the tree once, gathering inline text into the running paragraph until a block element ends it. */
class BlockCollector {
  readonly blocks: Block[] = [];
  private inline = "";

  constructor(private readonly page: PageText | undefined) {}

  visitChildren(node: Node): void {
    for (const child of node.childNodes) this.visit(child);
  }

  flush(): void {
    const text = collapseInline(this.inline);
    this.inline = "";
    if (text) this.blocks.push({ kind: "paragraph", text });
  }

  /**
   * Navigation, footers, banners and cookie consent banners by their class, id or role (as texinfo's
   * `<div class="header">` of Next/Up links on every page), `<header>`, and blocks that are mostly links (a
   * menu marked up as plain `<div>`s): any of them a layout block less than half the page. A header that
   * holds a heading and no navigation is the content's own (an article's title), so it stays.
   */
  private isChrome(element: HTMLElement, tag: string): boolean {
    const stats = this.page?.of.get(element);
    if (!this.page || !stats || !LAYOUT_BLOCKS.has(tag) || isMostOfPage(stats, this.page)) return false;
    if (MENU_BLOCKS.has(tag) && isMenu(stats) && !isDescriptionList(element, tag, this.page)) return true;
    const { chrome, header } = chromeMark(element, tag);
    if (!chrome && !header) return false;
    return chrome || !element.querySelector(HEADINGS) || element.querySelector("nav") !== null;
  }

  /**
   * What screen readers skip (`aria-hidden`) is decoration: a permalink's "¶", an icon, a visual copy of
   * text that is also spelled out for them, a closed dialog. Half the page or more is the content itself,
   * hidden behind a dialog that was open when the page was saved, so it stays. Without a page to measure
   * against (inside a heading, a list item or a cell), the element is a part of one block.
   */
  private isDecoration(element: HTMLElement): boolean {
    if (element.getAttribute("aria-hidden") !== "true") return false;
    const stats = this.page?.of.get(element);
    return !this.page || !stats || !isMostOfPage(stats, this.page);
  }

  private visit(node: Node): void {
    if (node instanceof TextNode) {
      // Source line breaks are just whitespace; only <br> breaks a line.
      this.inline += node.text.replace(/\s+/g, " ");
      return;
    }
    if (!(node instanceof HTMLElement)) return;
    const tag = node.tagName.toLowerCase();
    const dropped = DROPPED.has(tag) || isUnrendered(node) || isGeneratorMark(node, tag);
    if (dropped || this.isDecoration(node) || this.isChrome(node, tag)) return;
    const render = tag === "table" && isLayoutTable(node) ? undefined : RENDERERS.get(tag);
    if (tag === "br") {
      // Two breaks in a row end a paragraph: how a stanza, or an old page's paragraphs, are written.
      if (endsWithBreak(this.inline)) this.flush();
      else this.inline += "\n";
    } else if (tag === "code") {
      // Outside <pre>, a browser shows a line break in code as a space, as in any text.
      this.inline += `\`${node.text.replace(/\s+/g, " ")}\``;
    } else if (tag === "sup" || tag === "sub") {
      const before = this.inline.length;
      this.visitChildren(node);
      const shifted = shiftedText(tag, collapseInline(this.inline.slice(before)), this.inline[before - 1]);
      this.inline = this.inline.slice(0, before) + shifted;
    } else if (render) {
      this.flush();
      this.blocks.push(...render(node));
    } else if (CONTAINERS.has(tag)) {
      this.flush();
      this.visitChildren(node);
      this.flush();
    } else {
      this.visitChildren(node);
    }
  }
}

/** Whether text ends with a line break and spaces at most: looked at from its end, as a paragraph grows. */
function endsWithBreak(text: string): boolean {
  let end = text.length - 1;
  while (text[end] === " ") end--;
  return text[end] === "\n";
}

const isMostOfPage = (stats: TextStats, page: PageText) => stats.chars * 2 >= page.chars;

const isMenu = (stats: TextStats) =>
  stats.links >= MIN_MENU_LINKS &&
  stats.linkChars >= stats.chars * MIN_MENU_LINK_SHARE &&
  stats.chars - stats.linkChars <= MAX_MENU_OWN_CHARS;

/**
 * A list each of whose items opens with words of its own, before any link, describes things rather than
 * linking to them, however much of it is links: Node.js's docs list a function's parameters as
 * "`asyncFn` <Function> | <Promise>", each type a link. A menu's items open with their link.
 */
function isDescriptionList(element: HTMLElement, tag: string, page: PageText): boolean {
  const items = tag === "ul" || tag === "ol" ? childElements(element, "li") : [];
  return items.length > 0 && items.every((item) => !opensWithLink(item, page));
}

/** Whether the first text an element shows is a link's. */
function opensWithLink(element: HTMLElement, page: PageText): boolean {
  for (const child of element.childNodes) {
    // A text node reached here is outside any link: all of a link's text counts as link text, and the walk
    // goes into an element only when part of its text is not.
    if (child instanceof TextNode && child.rawText.trim()) return false;
    if (!(child instanceof HTMLElement)) continue;
    const stats = page.of.get(child);
    if (stats?.chars) {
      return stats.linkChars === stats.chars || (stats.linkChars > 0 && opensWithLink(child, page));
    }
  }
  return false;
}

/** Whether an element's class, id or role mark it as the site's chrome, or as a header. */
function chromeMark(element: HTMLElement, tag: string): { chrome: boolean; header: boolean } {
  const names = `${element.getAttribute("class") ?? ""} ${element.id}`.toLowerCase().split(/\s+/);
  const bars = names.map((name) =>
    COMPONENT_PART.test(name)
      ? undefined
      : name.split(/[-_]+/).find((word) => word === "header" || word === "footer"),
  );
  const nav = names.some((name) => name.split(/[-_]+/).some((word) => NAV_WORDS.has(word)));
  const consent =
    CONTAINERS.has(tag) && names.some((name) => CONSENT_NAME.test(name)) && !isTitledSection(element);
  const role = element.getAttribute("role") ?? "";
  return {
    chrome: nav || consent || bars.includes("footer") || CHROME_ROLES.has(role),
    header: element.tagName === "HEADER" || role === "banner" || bars.includes("header"),
  };
}

/**
 * A heading, or a block whose text opens with one, is a section of the document even when its id names
 * cookies or consent (a privacy policy's `<section id="cookies"><h2>Cookies</h2>`); a consent banner opens
 * with its vendor's wrappers or its text.
 */
function isTitledSection(element: HTMLElement): boolean {
  return isHeading(element) || isHeading(renderedChildren(element).find((child) => child.text.trim()));
}

const isHeading = (element: HTMLElement | undefined) =>
  element !== undefined && HEADING_TAGS.has(element.tagName.toLowerCase());

/**
 * What a browser does not render: the `hidden` attribute (but not `hidden="until-found"`, content a reader
 * finds by searching the page, as a collapsed section), a `<dialog>` that is not open, and an inline style
 * of `display: none` or `visibility: hidden`. Stylesheets are not read: content hidden by a class stays.
 */
function isUnrendered(element: HTMLElement): boolean {
  const hidden = element.getAttribute("hidden");
  if (hidden !== undefined && hidden.toLowerCase() !== "until-found") return true;
  if (element.tagName === "DIALOG" && !element.hasAttribute("open")) return true;
  return HIDING_STYLE.test(element.getAttribute("style") ?? "");
}

/**
 * Marks a doc generator adds that are not the text: Pygments' line numbers, and the permalink beside a
 * heading or an API signature (Sphinx's "¶", VuePress's "#", Docusaurus's zero-width space), which is a
 * same-page link with no letter or digit; a footnote's "1", "*" or "†", or a link "Install" stay.
 */
function isGeneratorMark(element: HTMLElement, tag: string): boolean {
  if (LINE_NUMBERS.some((name) => element.classList.contains(name))) return true;
  if (tag !== "a" || !element.getAttribute("href")?.startsWith("#")) return false;
  return !/[\p{L}\p{N}*†‡]/u.test(element.text);
}

function isLayoutTable(table: HTMLElement): boolean {
  if (table.querySelector(`${HEADINGS}, table`)) return true;
  // Header cells or a caption make a data table, an example in a cell (<pre>) notwithstanding.
  if (table.querySelector("th, thead, caption")) return false;
  if (table.querySelector("pre")) return true;
  return tableCells(table).some((cell) => cell.querySelectorAll("p").length >= MIN_LAYOUT_CELL_PARAGRAPHS);
}

function collapseInline(text: string): string {
  return text
    .split("\n")
    .map((line) => line.replace(/\s+/g, " ").trim())
    .join("\n")
    .replace(/\n{2,}/g, "\n")
    .trim();
}

/** An element's text on one line, with its block children separated by spaces rather than run together. */
function flatText(element: HTMLElement): string {
  return collectBlocks(element)
    .map((block) => block.text)
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
}

function bodyBlock(kind: Exclude<Block["kind"], "heading">, text: string): Block[] {
  return text.trim() ? [{ kind, text }] : [];
}

function quoteBlock(quote: HTMLElement): Block[] {
  const inner = collectBlocks(quote).map((block) => block.text);
  return bodyBlock("paragraph", quoteLines(inner.join("\n\n")));
}

function headingBlock(element: HTMLElement): Block[] {
  const text = flatText(element);
  return text ? [{ kind: "heading", level: Number(element.tagName.slice(1)), text }] : [];
}

function codeBlock(pre: HTMLElement): Block[] {
  return codeVariants(pre).flatMap((code) => {
    // HTML ignores a newline right after <pre>, and a trailing one is layout, not code.
    const text = codeText(code).replace(/^\n/, "").replace(/\s+$/, "");
    return bodyBlock("code", text && fenceCode(text, codeLanguage(code) ?? codeLanguage(pre)));
  });
}

/**
 * The `<code>` elements of a `<pre>` that holds no other text, each a version of one example (Node.js's
 * docs show its ES module or its CommonJS form, with a toggle and a copy button): each is a block of its own,
 * as in the Markdown the page was made from (```mjs, ```cjs). Run together they would read as one program
 * that imports the same names twice. Otherwise the `<pre>` is one block: texinfo writes an example's words
 * as `<code>`s between `<var>`s.
 */
function codeVariants(pre: HTMLElement): HTMLElement[] {
  const codes = childElements(pre, "code");
  const alone = pre.childNodes.every(
    (child) => codes.some((code) => code === child) || !codeText(child).trim(),
  );
  return codes.length > 1 && alone ? codes : [pre];
}

/**
 * A `<pre>`'s text, its lines broken where it says `<br>` (as gtk-doc and libxml2's pages do), without the
 * line numbers a highlighter writes into it or the label of a control beside it (a "copy" button).
 */
function codeText(node: Node): string {
  if (!(node instanceof HTMLElement)) return node.text;
  const tag = node.tagName.toLowerCase();
  if (tag === "br") return "\n";
  if (tag === "button" || isGeneratorMark(node, tag)) return "";
  return node.childNodes.map(codeText).join("");
}

function codeLanguage(code: HTMLElement): string | undefined {
  for (const element of [code, ...code.querySelectorAll("code")]) {
    const match = /(?:^|\s)lang(?:uage)?-([\w+#.-]+)/.exec(element.getAttribute("class") ?? "");
    if (match) return match[1];
  }
  return undefined;
}

function renderList(list: HTMLElement): string[] {
  const ordered = list.tagName.toLowerCase() === "ol";
  const start = Number.parseInt(list.getAttribute("start") ?? "1", 10);
  const first = Number.isNaN(start) ? 1 : start;
  return childElements(list, "li").flatMap((item, i) =>
    listItemLines(ordered ? `${first + i}.` : "-", listItemText(collectBlocks(item)), 0),
  );
}

function tableBlock(table: HTMLElement): Block[] {
  const rows = tableRows(table).map((row) => tableRowCells(row).map((cell) => flatText(cell)));
  const cells = rows.filter((row) => row.length > 0);
  return cells.length > 0 ? bodyBlock("table", pipeTable(cells)) : [];
}

/** The rows of this table, directly or in its sections, but not those of a table nested in a cell. */
function tableRows(table: HTMLElement): HTMLElement[] {
  return renderedChildren(table).flatMap((child) => {
    const tag = child.tagName.toLowerCase();
    if (tag === "tr") return [child];
    return ["thead", "tbody", "tfoot"].includes(tag) ? childElements(child, "tr") : [];
  });
}

const tableRowCells = (row: HTMLElement) => childElements(row, "th", "td");
const tableCells = (table: HTMLElement) => tableRows(table).flatMap(tableRowCells);

function childElements(element: HTMLElement, ...tags: string[]): HTMLElement[] {
  return renderedChildren(element).filter((child) => tags.includes(child.tagName.toLowerCase()));
}

/** An element's child elements, but not those a browser hides: list items and rows are picked, not walked. */
function renderedChildren(element: HTMLElement): HTMLElement[] {
  return element.childNodes.filter(
    (child): child is HTMLElement => child instanceof HTMLElement && !isUnrendered(child),
  );
}
