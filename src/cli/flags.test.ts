import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { parsePageSize } from "./flags.js";

describe("parsePageSize", () => {
  it("takes the page sizes the API takes, and refuses the others in the flag's own words", () => {
    expect(parsePageSize("1")).toBe(1);
    expect(parsePageSize("500")).toBe(500);
    // 0 passed as "0 or more", and the API then refused it in its own words ("Too small: expected…").
    for (const value of ["0", "501", "-1", "2.5", "", "ten"]) {
      expect(() => parsePageSize(value)).toThrow(
        new InvalidArgumentError("must be a whole number from 1 to 500."),
      );
    }
  });
});
