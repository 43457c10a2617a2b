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
}

export type Block = HeadingBlock | BodyBlock;
