import { describe, expect, it } from "vitest";
import { DOCUMENT_EXTENSIONS, detectDocumentType } from "./document-types.js";

describe("detectDocumentType", () => {
  it("maps supported extensions case-insensitively", () => {
    expect(detectDocumentType("notes.MD")).toBe("markdown");
    expect(detectDocumentType("a.b.markdown")).toBe("markdown");
    expect(detectDocumentType("intro.mdx")).toBe("mdx");
    expect(detectDocumentType("readme.txt")).toBe("text");
    expect(detectDocumentType("page.HTM")).toBe("html");
    expect(detectDocumentType("scan.pdf")).toBe("pdf");
    expect(detectDocumentType("report.docx")).toBe("docx");
    expect(detectDocumentType("data.json")).toBe("json");
    expect(detectDocumentType("data.JSONL")).toBe("jsonl");
  });

  it("lists the extensions it maps, as a file picker accepts them", () => {
    expect(DOCUMENT_EXTENSIONS).toEqual([
      ".md",
      ".markdown",
      ".mdx",
      ".txt",
      ".html",
      ".htm",
      ".pdf",
      ".docx",
      ".json",
      ".jsonl",
    ]);
    for (const ext of DOCUMENT_EXTENSIONS) expect(detectDocumentType(`file${ext}`)).toBeDefined();
  });

  it("returns undefined for other or missing extensions", () => {
    expect(detectDocumentType("old.doc")).toBeUndefined();
    expect(detectDocumentType("Makefile")).toBeUndefined();
    expect(detectDocumentType("x.constructor")).toBeUndefined();
  });
});
