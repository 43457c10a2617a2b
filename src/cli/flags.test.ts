import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { parsePageSize, parsePositiveNumber, parseWholeNumber } from "./flags.js";

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
