import { describe, expect, it } from "vitest";
import { parseResetDuration, RateGate } from "./rate-gate.js";

describe("parseResetDuration", () => {
  it.each([
    ["20ms", 20],
    ["1s", 1000],
    ["1.5s", 1500],
    ["6m0s", 360_000],
    ["1h2m3s", 3_723_000],
  ])("reads %s as %d ms", (value, ms) => {
    expect(parseResetDuration(value)).toBe(ms);
  });

  it("answers undefined for what it cannot read", () => {
    expect(parseResetDuration(undefined)).toBeUndefined();
    expect(parseResetDuration("soon")).toBeUndefined();
  });
});

describe("RateGate", () => {
  it("holds every caller until the longest pause ends", async () => {
    let now = 1000;
    const slept: number[] = [];
    const gate = new RateGate(
      () => now,
      async (ms) => {
        slept.push(ms);
        now += ms;
      },
    );
    await gate.wait();
    expect(slept).toEqual([]);
    gate.pauseFor(500);
    gate.pauseFor(200); // a shorter pause never shortens a longer one
    await gate.wait();
    expect(slept).toEqual([500]);
    expect(now).toBe(1500);
  });
});
