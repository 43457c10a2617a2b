import { describe, expect, it } from "vitest";
import { counted, pageOf } from "./counted.js";

describe("counted", () => {
  it("says one thing in the singular and any other count in the plural", () => {
    expect([0, 1, 2].map((n) => counted(n, "chunk"))).toEqual(["0 chunks", "1 chunk", "2 chunks"]);
  });
});

describe("pageOf", () => {
  it("says which of the items a page shows, or just how many when it shows them all", () => {
    expect(pageOf(20, 20, 45, "chunk")).toBe("Showing 21–40 of 45 chunks");
    expect(pageOf(40, 5, 45, "chunk")).toBe("Showing 41–45 of 45 chunks");
    expect(pageOf(0, 1, 1, "chunk")).toBe("1 chunk");
    expect(pageOf(0, 0, 0, "chunk")).toBe("0 chunks");
  });
});
