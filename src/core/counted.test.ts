import { describe, expect, it } from "vitest";
import { counted } from "./counted.js";

describe("counted", () => {
  it("says one thing in the singular and any other count in the plural", () => {
    expect([0, 1, 2].map((n) => counted(n, "chunk"))).toEqual(["0 chunks", "1 chunk", "2 chunks"]);
  });
});
