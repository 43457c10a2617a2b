import { describe, expect, it } from "vitest";
import { assignSplit, checkSplitFraction, splitScore, splitTrainValidation } from "./split.js";

const ids = (count: number, prefix = "pair") =>
  Array.from({ length: count }, (_, index) => `${prefix}-${index}`);

describe("assignSplit", () => {
  it("gives the same answer for the same id, fraction and seed", () => {
    for (const id of ids(200)) expect(assignSplit(id, 0.2, 42)).toBe(assignSplit(id, 0.2, 42));
  });

  it("depends on the seed", () => {
    const sides = (seed: number) => ids(200).map((id) => assignSplit(id, 0.5, seed));
    expect(sides(1)).not.toEqual(sides(2));
  });

  it("puts close to the fraction in validation over 10,000 ids", () => {
    for (const fraction of [0.05, 0.1, 0.2, 0.5]) {
      const validation = ids(10_000).filter((id) => assignSplit(id, fraction, 7) === "validation").length;
      // Five standard deviations of a binomial count: a miss means a biased hash, not bad luck.
      const tolerance = 5 * Math.sqrt(10_000 * fraction * (1 - fraction));
      expect(Math.abs(validation - 10_000 * fraction)).toBeLessThan(tolerance);
    }
  });

  it("only moves pairs from train to validation when the fraction grows", () => {
    for (const id of ids(2_000)) {
      if (assignSplit(id, 0.1, 3) === "validation") expect(assignSplit(id, 0.2, 3)).toBe("validation");
    }
  });

  it("refuses a fraction outside (0, 1), naming split", () => {
    for (const fraction of [0, 1, -0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => assignSplit("a", fraction, 1)).toThrow(RangeError);
      expect(() => checkSplitFraction(fraction)).toThrow(/^split: /);
    }
    expect(() => checkSplitFraction(0.001)).not.toThrow();
    expect(() => checkSplitFraction(0.999)).not.toThrow();
  });

  it("refuses a seed that is not a whole number", () => {
    expect(() => assignSplit("a", 0.1, 1.5)).toThrow(/^seed: /);
    expect(() => splitScore("a", Number.NaN)).toThrow(RangeError);
  });
});

describe("splitTrainValidation", () => {
  it("agrees with assignSplit id by id and keeps the input order on each side", () => {
    const all = ids(1_000);
    const { train, validation } = splitTrainValidation(all, 0.1, 11);
    expect(train.length + validation.length).toBe(1_000);
    expect(validation).toEqual(all.filter((id) => assignSplit(id, 0.1, 11) === "validation"));
    expect(train).toEqual(all.filter((id) => assignSplit(id, 0.1, 11) === "train"));
  });

  it("is stable when pairs are added: no existing pair changes side", () => {
    const before = splitTrainValidation(ids(1_000), 0.2, 5);
    const after = splitTrainValidation([...ids(1_000), ...ids(500, "new")], 0.2, 5);
    expect(after.validation.filter((id) => id.startsWith("pair-"))).toEqual(before.validation);
    expect(after.train.filter((id) => id.startsWith("pair-"))).toEqual(before.train);
  });

  it("splits any items through their id, from any iterable", () => {
    const items = ids(100).map((id) => ({ id, text: `text of ${id}` }));
    function* stream() {
      yield* items;
    }
    const { train, validation } = splitTrainValidation(stream(), 0.3, 9, (item) => item.id);
    expect(validation.map((item) => item.id)).toEqual(splitTrainValidation(ids(100), 0.3, 9).validation);
    expect(train).toHaveLength(100 - validation.length);
  });

  it("never leaves a side empty when there are two or more items", () => {
    const pair = ["a", "b"];
    const seed = [...Array(100).keys()].find((s) => pair.every((id) => assignSplit(id, 0.1, s) === "train"));
    expect(seed).toBeDefined();
    const { train, validation } = splitTrainValidation(pair, 0.1, seed ?? 0);
    // The one nearest the threshold moves: the lower score.
    const nearest = splitScore("a", seed ?? 0) < splitScore("b", seed ?? 0) ? "a" : "b";
    expect(validation).toEqual([nearest]);
    expect(train).toEqual(pair.filter((id) => id !== nearest));

    const high = [...Array(100).keys()].find((s) =>
      pair.every((id) => assignSplit(id, 0.9, s) === "validation"),
    );
    const other = splitTrainValidation(pair, 0.9, high ?? 0);
    expect(other.train).toHaveLength(1);
    expect(other.validation).toHaveLength(1);
  });

  it("handles nothing and a single item without moving anything", () => {
    expect(splitTrainValidation([], 0.1, 1)).toEqual({ train: [], validation: [] });
    const single = splitTrainValidation(["only"], 0.1, 1);
    expect(single.train.length + single.validation.length).toBe(1);
  });

  it("validates the fraction even for an empty list", () => {
    expect(() => splitTrainValidation([], 1, 1)).toThrow(/^split: /);
  });
});
