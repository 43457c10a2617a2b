/** The kinds of document FineFlow reads, and the file extensions it knows them by. */
export type DocumentType = "markdown" | "mdx" | "text" | "html" | "pdf" | "docx" | "json" | "jsonl";

const TYPE_BY_EXTENSION = new Map<string, DocumentType>([
  ["md", "markdown"],
  ["markdown", "markdown"],
  ["mdx", "mdx"],
  ["txt", "text"],
  ["html", "html"],
  ["htm", "html"],
  ["pdf", "pdf"],
  ["docx", "docx"],
  ["json", "json"],
  ["jsonl", "jsonl"],
]);

/** The extensions FineFlow reads, dot included, as a file picker's `accept` lists them. */
export const DOCUMENT_EXTENSIONS: readonly string[] = [...TYPE_BY_EXTENSION.keys()].map((ext) => `.${ext}`);

/** The document type for an uploaded file's name, by its extension; undefined when it is not supported. */
export function detectDocumentType(fileName: string): DocumentType | undefined {
  const dot = fileName.lastIndexOf(".");
  return dot < 0 ? undefined : TYPE_BY_EXTENSION.get(fileName.slice(dot + 1).toLowerCase());
}
