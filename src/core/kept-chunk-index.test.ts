import { describe, expect, it } from "vitest";
import { KeptChunkIndex } from "./kept-chunk-index.js";
import { fingerprint } from "./near-duplicates.js";

const sentences = (topic: string) =>
  Array.from({ length: 10 }, (_, i) => `Step ${i} shows how ${topic} behaves for case ${i * 3} today.`).join(
    " ",
  );

describe("KeptChunkIndex", () => {
  it("finds the kept chunks a new chunk could repeat, exactly or nearly, oldest first", () => {
    const index = new KeptChunkIndex(0.8);
    index.add("billing", fingerprint(sentences("billing")));
    index.add("shipping", fingerprint(sentences("shipping")));
    index.add("billing-2", fingerprint(`${sentences("billing")} One more sentence.`));
    expect(index.size).toBe(3);

    expect(index.candidates([fingerprint(sentences("billing"))])).toEqual(["billing", "billing-2"]);
    const edited = sentences("shipping").replace("case 6", "case six");
    expect(index.candidates([fingerprint(edited)])).toEqual(["shipping"]);
    expect(index.candidates([fingerprint(sentences("refunds")), fingerprint(sentences("shipping"))])).toEqual(
      ["shipping"],
    );
  });

  it("proposes nothing for unrelated text", () => {
    const index = new KeptChunkIndex(0.8);
    for (let i = 0; i < 200; i++) index.add(`c${i}`, fingerprint(sentences(`topic ${i}`)));
    expect(
      index.candidates([fingerprint("An entirely different paragraph about gardening in spring.")]),
    ).toEqual([]);
  });

  it("rejects a signature of another length", () => {
    const index = new KeptChunkIndex(0.8);
    expect(() => index.add("a", fingerprint("some text", { numHashes: 64 }))).toThrow(RangeError);
  });
});
