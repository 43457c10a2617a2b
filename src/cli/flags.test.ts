import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { createProjectSchema, generateDatasetSchema, startTrainingSchema } from "../core/inputs.js";
import { RANGES } from "../core/ranges.js";
import {
  numberFlag,
  parsePageSize,
  parsePositiveNumber,
  parseWholeNumber,
  wholeNumberFlag,
} from "./flags.js";

describe("parsePageSize", () => {
  it("takes the page sizes the API takes, and refuses the others in the flag's own words", () => {
    expect(parsePageSize("1")).toBe(1);
    expect(parsePageSize("500")).toBe(500);
    // 0 passed as "0 or more", and the API then refused it in its own words ("Too small: expected…").
    for (const value of ["0", "501", "-1", "2.5", "", "ten", "0x10", "1e2"]) {
      expect(() => parsePageSize(value)).toThrow(
        new InvalidArgumentError("must be a whole number from 1 to 500."),
      );
    }
  });
});

describe("parsePositiveNumber", () => {
  it("takes a learning rate or multiplier, and refuses what is no number above 0 in the flag's own words", () => {
    expect(parsePositiveNumber("0.0001")).toBe(0.0001);
    expect(parsePositiveNumber("2")).toBe(2);
    expect(parsePositiveNumber("1e-5")).toBe(1e-5);
    // Read with parseFloat, "abc" went to the API as null: "expected number, received null".
    for (const value of ["abc", "", "0", "-1", "1e400", "Infinity"]) {
      expect(() => parsePositiveNumber(value)).toThrow(
        new InvalidArgumentError("must be a number above 0 (e.g. 0.0001 or 2)."),
      );
    }
  });
});

describe("parseWholeNumber", () => {
  it("takes a count written in digits, and refuses hexadecimal and exponents, which nobody means by one", () => {
    expect(parseWholeNumber("0")).toBe(0);
    expect(parseWholeNumber(" 42 ")).toBe(42);
    for (const value of ["0x10", "1e2", "-1", "2.5", "", " "]) {
      expect(() => parseWholeNumber(value)).toThrow(
        new InvalidArgumentError("must be a whole number, 0 or more."),
      );
    }
  });
});

describe("flags in the API's ranges", () => {
  it("refuse what the API refuses, and take what it takes, at both ends", () => {
    const pairs = wholeNumberFlag(RANGES.pairsPerChunk);
    expect([pairs("1"), pairs("10")]).toEqual([1, 10]);
    expect(() => pairs("11")).toThrow(new InvalidArgumentError("must be a whole number from 1 to 10."));
    expect(generateDatasetSchema.safeParse({ datasetName: "d", pairsPerChunk: 10 }).success).toBe(true);
    expect(generateDatasetSchema.safeParse({ datasetName: "d", pairsPerChunk: 11 }).success).toBe(false);

    const target = wholeNumberFlag(RANGES.chunkTargetTokens);
    expect(() => target("31")).toThrow(new InvalidArgumentError("must be a whole number from 32 to 8192."));
    expect(createProjectSchema.safeParse({ name: "p", chunkTargetTokens: 31 }).success).toBe(false);
    expect(createProjectSchema.safeParse({ name: "p", chunkTargetTokens: 32 }).success).toBe(true);

    const threshold = numberFlag(RANGES.duplicateThreshold);
    expect(threshold("0.5")).toBe(0.5);
    expect(() => threshold("0.4")).toThrow(new InvalidArgumentError("must be a number from 0.5 to 1."));
    expect(createProjectSchema.safeParse({ name: "p", duplicateThreshold: 0.4 }).success).toBe(false);

    const training = { datasetId: "d", provider: "openai", model: "m" };
    const split = numberFlag(RANGES.validationSplit);
    expect(() => split("0.6")).toThrow(new InvalidArgumentError("must be a number from 0.01 to 0.5."));
    expect(startTrainingSchema.safeParse({ ...training, validationSplit: 0.6 }).success).toBe(false);
    expect(startTrainingSchema.safeParse({ ...training, epochs: 50, batchSize: 256 }).success).toBe(true);
    expect(startTrainingSchema.safeParse({ ...training, epochs: 51 }).success).toBe(false);
    expect(() => wholeNumberFlag(RANGES.epochs)("51")).toThrow(InvalidArgumentError);
    expect(() => wholeNumberFlag(RANGES.batchSize)("257")).toThrow(InvalidArgumentError);
  });
});
