import { describe, expect, it } from "vitest";
import { formatUsd } from "./money.js";

describe("formatUsd", () => {
  it("shows cents, and more digits only where an amount has them", () => {
    expect(formatUsd(12.5)).toBe("$12.50");
    expect(formatUsd(40)).toBe("$40.00");
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(1234.5678)).toBe("$1234.57");
  });

  it("never rounds a small amount to $0.00, nor a budget and a cost over it to the same figure", () => {
    expect(formatUsd(0.0001)).toBe("$0.0001");
    expect(formatUsd(0.00862345)).toBe("$0.00862345");
    expect(formatUsd(0.018)).toBe("$0.018");
    expect(formatUsd(0.01915)).toBe("$0.01915");
    expect(formatUsd(1.005)).toBe("$1.005");
    expect(formatUsd(0.000000001)).toBe("$0.000000001");
    expect(formatUsd(-0.5)).toBe("-$0.50");
  });

  it("says unknown for an amount not known, never $0", () => {
    expect(formatUsd(null)).toBe("unknown");
    expect(formatUsd(undefined)).toBe("unknown");
  });
});
