import { describe, expect, it } from "vitest";
import { inTermsOf } from "./in-terms-of.js";

type FlagNames = Readonly<Record<string, string>>;

const PROJECT: FlagNames = {
  chunkTargetTokens: "--chunk-tokens",
  chunkOverlapTokens: "--chunk-overlap",
  duplicateThreshold: "--duplicate-threshold",
};

describe("inTermsOf", () => {
  it("names the field an issue is about, and a field its message names, by their flags", () => {
    expect(inTermsOf("chunkOverlapTokens: must be less than half of chunkTargetTokens (64)", PROJECT)).toBe(
      "--chunk-overlap: must be less than half of --chunk-tokens (64)",
    );
  });

  it("restates each issue of several, and leaves the fields no flag sets as the API names them", () => {
    expect(
      inTermsOf(
        "name: must not be empty; duplicateThreshold: must be a Jaccard similarity from 0.5 to 1",
        PROJECT,
      ),
    ).toBe("name: must not be empty; --duplicate-threshold: must be a Jaccard similarity from 0.5 to 1");
  });

  it("takes a one-word field for its flag where it labels an issue, not where a sentence uses the word", () => {
    const flags: FlagNames = { model: "--model", hardTokenLimit: "--max-tokens" };
    expect(inTermsOf("model: must name a base model", flags)).toBe("--model: must name a base model");
    expect(inTermsOf("the model has no hardTokenLimit", flags)).toBe("the model has no --max-tokens");
  });

  it("names an issue about an item of a list by the flag that gave the list", () => {
    expect(inTermsOf("documentIds.1: Invalid input", { documentIds: "--documents" })).toBe(
      "--documents: Invalid input",
    );
  });

  it("restates a message that is not a list of issues", () => {
    const flags: FlagNames = { includeFlagged: "--include-flagged", minQuality: "--min-quality" };
    expect(
      inTermsOf("No chunks to generate from: (or pass includeFlagged) and at or above minQuality.", flags),
    ).toBe("No chunks to generate from: (or pass --include-flagged) and at or above --min-quality.");
  });

  it("takes no name an object has by inheritance for a flag", () => {
    expect(inTermsOf("constructor: hasOwnProperty toString", PROJECT)).toBe(
      "constructor: hasOwnProperty toString",
    );
  });
});
