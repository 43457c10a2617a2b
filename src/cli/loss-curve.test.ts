import { describe, expect, it } from "vitest";
import { lossCurve } from "./loss-curve.js";

describe("lossCurve", () => {
  it("draws a falling loss from the tallest bar to the lowest, with the first and last values", () => {
    expect(lossCurve([2, 1.5, 1, 0.5])).toBe("2.000 █▆▃▁ 0.500");
  });

  it("skips steps without a value and is undefined when none has one", () => {
    expect(lossCurve([undefined, 1, null, 1])).toBe("1.000 ▁▁ 1.000");
    expect(lossCurve([undefined, null])).toBeUndefined();
  });

  it("samples long curves down to the width, keeping the first and last points", () => {
    const values = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    const curve = lossCurve(values, 10) as string;
    expect(curve.split(" ")[1]).toHaveLength(10);
    expect(curve.startsWith("1000.000 █")).toBe(true);
    expect(curve.endsWith("▁ 1.000")).toBe(true);
  });
});
