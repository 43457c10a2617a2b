/**
 * A document's text as an ordered list of structural blocks: what every parser produces and the chunker
 * consumes. Lists, code and tables carry their Markdown rendering, so a chunk keeps the structure a reader
 * (and a model) relies on.
 */
export type BlockKind = "heading" | "paragraph" | "list" | "code" | "table";

export interface HeadingBlock {
  kind: "heading";
  /** 1 for a top-level section, up to 6. */
  level: number;
  text: string;
  /** 1-based page number, for paged sources such as PDF. */
  page?: number;
}

export interface BodyBlock {
  kind: Exclude<BlockKind, "heading">;
  text: string;
  page?: number;
  /** The last page of a block that runs on across a page break (a paragraph of a PDF's), if not `page`. */
  pageEnd?: number;
}

export type Block = HeadingBlock | BodyBlock;

/**
 * A heading without text starts an untitled section: what follows is under none of the headings before at
 * its level or deeper, and a chunk does not run across it. How a JSON record without a title is set apart
 * from the record before it.
 */
export const isUntitledSection = (block: Block): boolean => block.kind === "heading" && !block.text.trim();
