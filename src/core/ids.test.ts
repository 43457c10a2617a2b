import { describe, expect, it } from "vitest";
import { idRange, isUuid } from "./ids.js";

const ID = "a1b2c3d4-e5f6-4789-8abc-def012345678";

describe("idRange", () => {
  it("is the id itself for a whole id, in any case", () => {
    expect(idRange(ID)).toEqual({ low: ID, high: ID });
    expect(idRange(ID.toUpperCase())).toEqual({ low: ID, high: ID });
  });

  it("spans every id a short id begins, with or without the ellipsis validation prints", () => {
    const range = {
      low: "a1b2c3d4-0000-0000-0000-000000000000",
      high: "a1b2c3d4-ffff-ffff-ffff-ffffffffffff",
    };
    expect(idRange("a1b2c3d4")).toEqual(range);
    expect(idRange("a1b2c3d4…")).toEqual(range);
    expect(idRange(" A1B2C3D4... ")).toEqual(range);
    expect(idRange("a1b2c3d4-e5")).toEqual({
      low: "a1b2c3d4-e500-0000-0000-000000000000",
      high: "a1b2c3d4-e5ff-ffff-ffff-ffffffffffff",
    });
    for (const id of [range.low, range.high, ID]) expect(isUuid(id)).toBe(true);
  });

  it("takes the digits with or without their hyphens, as many as are given", () => {
    const nine = {
      low: "a1b2c3d4-e000-0000-0000-000000000000",
      high: "a1b2c3d4-efff-ffff-ffff-ffffffffffff",
    };
    expect(idRange("a1b2c3d4e")).toEqual(nine);
    expect(idRange("a1b2c3d4-e")).toEqual(nine);
    expect(idRange(ID.replaceAll("-", ""))).toEqual({ low: ID, high: ID });
  });

  it("names nothing for fewer than 8 digits, or other characters", () => {
    for (const value of ["", "a1b2c3d", "a1b2c3dz", "a1b2-c3d", `${ID}0`, "ff_token", "d1"]) {
      expect(idRange(value), value).toBeUndefined();
    }
  });
});
