import { describe, expect, it } from "vitest";
import { GrowingUint32Array } from "../growing-uint32-array.js";
import { textKey, Uint64KeyTable } from "./uint64-key-table.js";

describe("Uint64KeyTable", () => {
  it("maps keys to values through growth, telling apart keys that share a half", () => {
    const table = new Uint64KeyTable(2);
    for (let i = 0; i < 10_000; i++) {
      table.set(i, 7, i);
      table.set(7, i + 10_000, i + 1);
    }
    expect(table.size).toBe(20_000);
    expect(table.get(123, 7)).toBe(123);
    expect(table.get(7, 10_123)).toBe(124);
    expect(table.get(10_001, 7)).toBeUndefined();
  });

  it("overwrites a key's value without growing", () => {
    const table = new Uint64KeyTable();
    table.set(1, 2, 3);
    table.set(1, 2, 0);
    expect([table.size, table.get(1, 2)]).toEqual([1, 0]);
  });

  it("holds 12 bytes a slot, at most 70% full", () => {
    const table = new Uint64KeyTable(16);
    for (let i = 0; i < 1_000; i++) table.set(i, i, i);
    expect(table.byteLength).toBe(2048 * 12);
  });

  it("refuses values it cannot store", () => {
    expect(() => new Uint64KeyTable().set(1, 1, 0xffffffff)).toThrow(RangeError);
    expect(() => new Uint64KeyTable().set(1, 1, -1)).toThrow(RangeError);
  });
});

describe("textKey", () => {
  it("gives a million distinct texts distinct 64-bit keys", () => {
    const keys = new Set<bigint>();
    for (let i = 0; i < 1_000_000; i++) {
      const { hi, lo } = textKey(`question ${i} about w${i % 977}`);
      keys.add((BigInt(hi) << 32n) | BigInt(lo));
    }
    expect(keys.size).toBe(1_000_000);
  });

  it("depends on every character and on order", () => {
    expect(textKey("ab")).not.toEqual(textKey("ba"));
    expect(textKey("a")).not.toEqual(textKey("a\u0000"));
    expect(textKey("same")).toEqual(textKey("same"));
  });
});

describe("GrowingUint32Array", () => {
  it("grows as items are pushed and views only the items", () => {
    const array = new GrowingUint32Array(1);
    for (let i = 0; i < 100; i++) array.push(i * 3);
    expect(array.length).toBe(100);
    expect(array.at(99)).toBe(297);
    expect(array.view()).toHaveLength(100);
    expect(array.byteLength).toBe(128 * 4);
    expect(() => array.at(100)).toThrow(RangeError);
  });
});
