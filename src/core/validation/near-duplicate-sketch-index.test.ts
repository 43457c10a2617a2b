import { describe, expect, it } from "vitest";
import { lshParams } from "../near-duplicates.js";
import { NearDuplicateSketchIndex } from "./near-duplicate-sketch-index.js";

function words(seed: number, count: number): string[] {
  let state = seed * 2654435761 + 1;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return `w${(state >>> 8) % 5000}`;
  });
}

/** `base` with every `every`-th word replaced: each replacement swaps 5 of its 5-word shingles for new ones. */
function edit(base: string[], every: number): string {
  return base.map((word, i) => (i % every === every - 1 ? `x${i}` : word)).join(" ");
}

describe("NearDuplicateSketchIndex", () => {
  it("uses the chunk deduplication's banding for its threshold", () => {
    const index = new NearDuplicateSketchIndex(0.9);
    expect({ bands: index.bands, rows: index.rows }).toEqual(lshParams(128, 0.9));
  });

  it("finds a near-duplicate with its similarity, and the earliest of equally similar ones", () => {
    const base = words(1, 400);
    const index = new NearDuplicateSketchIndex(0.9);
    expect(index.add(base.join(" "), 10)).toBeUndefined();
    expect(index.add(words(2, 400).join(" "), 11)).toBeUndefined();
    expect(index.add(base.join(" "), 12)).toEqual({ label: 10, similarity: 1 });
    const match = index.add(edit(base, 200), 13);
    expect(match?.label).toBe(10);
    expect(match?.similarity).toBeGreaterThan(0.9);
  });

  it.each([
    // 40 replacements swap 200 of 996 shingles for 200 new ones: Jaccard 796 / 1196 ≈ 0.67.
    [25, 796 / 1196],
    // 10 replacements swap 50: 946 / 1046 ≈ 0.90.
    [100, 946 / 1046],
  ])(
    "estimates similarity from 4-bit sketches within a few points (every %ith word replaced)",
    (every, truth) => {
      const base = words(3, 1000);
      const index = new NearDuplicateSketchIndex(0.5);
      index.add(base.join(" "), 1);
      const similarity = index.add(edit(base, every), 2)?.similarity ?? 0;
      expect(Math.abs(similarity - truth)).toBeLessThan(0.06);
    },
  );

  it("estimates similarity alike on average over many pairs, without bias", () => {
    let total = 0;
    for (let seed = 0; seed < 50; seed++) {
      const base = words(seed + 10, 1000);
      const index = new NearDuplicateSketchIndex(0.5);
      index.add(base.join(" "), 1);
      total += index.add(edit(base, 25), 2)?.similarity ?? 0;
    }
    expect(Math.abs(total / 50 - 796 / 1196)).toBeLessThan(0.015);
  });

  it("finds near-duplicates among short texts, whose empty bins are filled from their neighbours", () => {
    const index = new NearDuplicateSketchIndex(0.9);
    for (let i = 0; i < 1_000; i++) expect(index.add(words(i + 500, 60).join(" "), i)).toBeUndefined();
    let found = 0;
    for (let i = 0; i < 100; i++) {
      // The last word replaced: 55 of the 56 shingles kept, Jaccard 55 / 57 ≈ 0.96.
      const copy = [...words(i + 500, 59), "changed"].join(" ");
      if (index.add(copy, 1_000 + i)?.label === i) found++;
    }
    expect(found).toBeGreaterThanOrEqual(95);
    expect(index.targets).toBe(1_000 + 100 - found);
  });

  it("keeps unrelated texts and near-duplicates below the threshold apart", () => {
    const base = words(4, 400);
    const index = new NearDuplicateSketchIndex(0.9);
    index.add(base.join(" "), 1);
    expect(index.add(edit(base, 10), 2)).toBeUndefined();
    expect(index.targets).toBe(2);
  });

  it("holds exactly one bucket entry per band for each target, and none for a near-duplicate", () => {
    const index = new NearDuplicateSketchIndex(0.9);
    for (let i = 0; i < 2_000; i++) index.add(words(i + 100, 30).join(" "), i);
    index.add(words(100, 30).join(" "), 2_000);
    expect(index.targets).toBe(2_000);
    expect(index.entries).toBe(2_000 * index.bands);
    expect(index.byteLength / 2_000).toBeLessThan(600);
  });
});
