/** Why a document could not become chunks; stored on a failed document so the user sees what to fix. */
export type DocumentParseFailure =
  | "empty"
  | "corrupt"
  | "encrypted"
  | "unsupported"
  | "invalid_records"
  /** Its processing needed more memory than it may have (AnalysisThread). */
  | "too_large";

/** A document that cannot be parsed. The message is written for the person who uploaded the file. */
export class DocumentParseError extends Error {
  constructor(
    readonly reason: DocumentParseFailure,
    message: string,
  ) {
    super(message);
    this.name = "DocumentParseError";
  }
}
