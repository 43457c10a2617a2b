import { describe, expect, it } from "vitest";
import {
  bandKeys,
  bestNearDuplicate,
  contentHash,
  DEFAULT_MINHASH,
  EMPTY_SIGNATURE_SLOT,
  estimateJaccard,
  fingerprint,
  LSH_TARGET_RECALL,
  lshCollisionProbability,
  lshParams,
  MINHASH_SCHEME_VERSION,
  minhashSignature,
  NearDuplicateIndex,
  normalizeForHash,
  resolveMinHashOptions,
  signatureFromBytes,
  signatureToBytes,
} from "./near-duplicates.js";

/** Deterministic prose-like text: `sentences` sentences of 15 words drawn from a 500-word vocabulary. */
function generateText(seed: number, sentences: number): string[] {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 8;
  };
  const result: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const words = Array.from({ length: 15 }, () => `word${next() % 500}`);
    result.push(`${words.join(" ")}.`);
  }
  return result;
}

function trueJaccard(a: string, b: string, k = DEFAULT_MINHASH.shingleSize): number {
  const shingles = (text: string) => {
    const words = normalizeForHash(text).split(" ");
    const set = new Set<string>();
    for (let i = 0; i + k <= words.length; i++) set.add(words.slice(i, i + k).join(" "));
    return set;
  };
  const sa = shingles(a);
  const sb = shingles(b);
  const intersection = [...sa].filter((s) => sb.has(s)).length;
  return intersection / (sa.size + sb.size - intersection);
}

const ORIGINAL = generateText(1, 20);
const ONE_SENTENCE_CHANGED = [...ORIGINAL.slice(0, 10), ...generateText(99, 1), ...ORIGINAL.slice(11)];
const UNRELATED = generateText(2, 20);

describe("normalizeForHash", () => {
  it("lowercases, collapses whitespace and trims", () => {
    expect(normalizeForHash("  Hello \t\n  WORLD  ")).toBe("hello world");
  });

  it("ignores punctuation and Markdown marks", () => {
    expect(normalizeForHash("Hello, world! **Bold** `code` | a | b |")).toBe("hello world bold code a b");
    expect(normalizeForHash("end.Start")).toBe(normalizeForHash("end. Start"));
  });

  it("applies NFKC and drops invisible format characters", () => {
    expect(normalizeForHash("ﬁle ＡＢＣ")).toBe("file abc");
    expect(normalizeForHash("zero\u200bwidth\u00adtext")).toBe("zerowidthtext");
  });

  it("keeps words that differ", () => {
    expect(normalizeForHash("a b")).not.toBe(normalizeForHash("a c"));
  });
});

describe("contentHash", () => {
  it("is the sha256 hex of the normalised text", () => {
    expect(contentHash("Hello   World!")).toBe(
      "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
    );
  });

  it("matches texts that differ only in whitespace, case and punctuation", () => {
    const text = ORIGINAL.join(" ");
    const variant = `\n\n${text.toUpperCase().replace(/ /g, "\n  ").replace(/\./g, "!")}\n`;
    expect(contentHash(variant)).toBe(contentHash(text));
    expect(contentHash(ONE_SENTENCE_CHANGED.join(" "))).not.toBe(contentHash(text));
  });
});

describe("minhashSignature", () => {
  it("has numHashes values, 128 by default", () => {
    expect(minhashSignature("a b c d e f")).toHaveLength(128);
    expect(minhashSignature("a b c d e f", { numHashes: 16 })).toHaveLength(16);
  });

  it("is stable across processes and versions", () => {
    // These values are stored in databases; if this test fails, bump MINHASH_SCHEME_VERSION instead.
    const sig = minhashSignature("The quick brown fox jumps over the lazy dog");
    expect(MINHASH_SCHEME_VERSION).toBe(3);
    // Unchanged since scheme 2, which differs from 3 only in reading Chinese, Japanese and Thai.
    expect(Array.from(sig.slice(0, 4))).toEqual([353559627, 899758329, 122590495, 655126221]);
    const chinese = minhashSignature("今天早上下雨了，所以我们决定在家里做饭。妈妈教我的这道菜非常简单。");
    expect(Array.from(chinese.slice(0, 4))).toEqual([84719102, 15766951, 224229488, 41631258]);
  });

  it("reads each Chinese character or kana as a word, so a changed character changes few shingles", () => {
    const chinese =
      "今天早上下雨了，所以我们决定在家里做饭。妈妈教我的这道菜非常简单，味道也很好。周末朋友们也要来，" +
      "我打算再做一次给他们尝尝。天气预报说明天会晴天，我们可以去公园散步，然后在附近的餐厅吃午饭。";
    const edited = chinese.replace("早上", "上午").replace("很好", "不错").replace("公园", "河边");
    expect(estimateJaccard(minhashSignature(chinese), minhashSignature(edited))).toBeGreaterThan(0.6);
    const japanese =
      "今日は朝から雨が降っていたので、私たちは家で料理を作ることにしました。母が教えてくれたレシピは、" +
      "とても簡単でおいしいです。週末には友達も来る予定なので、もう一度作ってみようと思います。";
    const unrelated = "会議の資料は前日までに共有してください。新しい製品の販売計画について話し合います。";
    const retold = japanese.replace("朝から", "昼から").replace("簡単で", "手軽で");
    expect(estimateJaccard(minhashSignature(japanese), minhashSignature(retold))).toBeGreaterThan(0.6);
    expect(estimateJaccard(minhashSignature(japanese), minhashSignature(unrelated))).toBeLessThan(0.1);
  });

  it("gives a shorter signature that is a prefix of a longer one", () => {
    const text = ORIGINAL.join(" ");
    expect(minhashSignature(text, { numHashes: 32 })).toEqual(minhashSignature(text).slice(0, 32));
  });

  it("signs texts shorter than one shingle from the words they have", () => {
    const short = minhashSignature("Two words");
    expect(short.every((v) => v !== EMPTY_SIGNATURE_SLOT)).toBe(true);
    expect(minhashSignature("two  WORDS.")).toEqual(short);
    expect(estimateJaccard(short, minhashSignature("other words"))).toBeLessThan(0.2);
  });

  it("marks an empty text with the empty slot value", () => {
    expect(minhashSignature(" \n ... ").every((v) => v === EMPTY_SIGNATURE_SLOT)).toBe(true);
  });

  it("depends on word order within a shingle", () => {
    const a = minhashSignature("one two three", { shingleSize: 3 });
    const b = minhashSignature("three two one", { shingleSize: 3 });
    expect(estimateJaccard(a, b)).toBeLessThan(0.1);
  });

  it("rejects invalid options", () => {
    expect(() => minhashSignature("x", { numHashes: 0 })).toThrow(RangeError);
    expect(() => minhashSignature("x", { shingleSize: 1.5 })).toThrow(RangeError);
    expect(resolveMinHashOptions({ numHashes: undefined })).toEqual(DEFAULT_MINHASH);
  });
});

describe("estimateJaccard", () => {
  // With one-word shingles each word is one set element, so the true Jaccard is known exactly. Each set
  // of words (`set`) gives an independent draw of the estimator's error.
  const words = (set: number, from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `s${set}w${from + i}`).join(" ");
  const estimate = (set: number, a: number[], b: number[]) =>
    estimateJaccard(
      minhashSignature(words(set, a[0] ?? 0, a[1] ?? 0), { shingleSize: 1 }),
      minhashSignature(words(set, b[0] ?? 0, b[1] ?? 0), { shingleSize: 1 }),
    );

  it.each([
    { a: [0, 600], b: [400, 1000], expected: 200 / 1000 },
    { a: [0, 600], b: [200, 800], expected: 400 / 800 },
    { a: [0, 900], b: [100, 1000], expected: 800 / 1000 },
    { a: [0, 1000], b: [0, 950], expected: 950 / 1000 },
  ])(
    "estimates a Jaccard of $expected without bias, as precisely as 128 hashes allow",
    ({ a, b, expected }) => {
      const errors = Array.from({ length: 60 }, (_, set) => estimate(set, a, b) - expected);
      const bias = errors.reduce((sum, e) => sum + e, 0) / errors.length;
      const rmse = Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / errors.length);
      // A single estimate's standard deviation is √(J(1−J)/128); the mean of 60 has a 60th of its variance.
      const sigma = Math.sqrt((expected * (1 - expected)) / 128);
      expect(Math.abs(bias)).toBeLessThan((3 * sigma) / Math.sqrt(60));
      expect(rmse).toBeLessThan(1.3 * sigma);
    },
  );

  it("estimates disjoint sets near 0 and identical ones at 1", () => {
    expect(estimate(0, [0, 500], [500, 1000])).toBeLessThanOrEqual(0.03);
    expect(estimate(0, [0, 700], [0, 700])).toBe(1);
  });

  it("rejects signatures of different lengths", () => {
    expect(() => estimateJaccard(new Uint32Array(4), new Uint32Array(8))).toThrow(RangeError);
  });
});

describe("LSH", () => {
  it("picks 18 bands of 7 rows for 128 hashes at 0.8", () => {
    expect(lshParams(128, 0.8)).toEqual({ bands: 18, rows: 7 });
    expect(lshParams(128)).toEqual({ bands: 18, rows: 7 });
  });

  it.each([0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1])("reaches the target recall at threshold %s", (t) => {
    const params = lshParams(128, t);
    expect(params.bands * params.rows).toBeLessThanOrEqual(128);
    expect(lshCollisionProbability(t, params)).toBeGreaterThanOrEqual(LSH_TARGET_RECALL);
  });

  it("rarely makes dissimilar pairs candidates at 0.8", () => {
    expect(lshCollisionProbability(0.3, lshParams(128, 0.8))).toBeLessThan(0.01);
  });

  it("makes one key per band, shared in the same band by near duplicates and not by unrelated texts", () => {
    const keys = (lines: string[]) => bandKeys(minhashSignature(lines.join(" ")), 0.8);
    const original = keys(ORIGINAL);
    expect(original).toHaveLength(18);
    const sharedBands = (other: number[]) => other.filter((key, band) => original[band] === key).length;
    expect(sharedBands(keys(ONE_SENTENCE_CHANGED))).toBeGreaterThan(0);
    expect(sharedBands(keys(UNRELATED))).toBe(0);
  });

  it("rejects thresholds outside (0, 1]", () => {
    expect(() => bandKeys(new Uint32Array(128), 0)).toThrow(RangeError);
    expect(() => bandKeys(new Uint32Array(128), 1.2)).toThrow(RangeError);
  });
});

describe("signature bytes", () => {
  it("round-trip", () => {
    const sig = minhashSignature(ORIGINAL.join(" "));
    const bytes = signatureToBytes(sig);
    expect(bytes).toHaveLength(512);
    expect(signatureFromBytes(bytes)).toEqual(sig);
  });

  it("are little-endian", () => {
    expect(Array.from(signatureToBytes(Uint32Array.of(0x01020304, EMPTY_SIGNATURE_SLOT)))).toEqual([
      4, 3, 2, 1, 255, 255, 255, 255,
    ]);
  });

  it("read from an unaligned view of a larger buffer", () => {
    const sig = Uint32Array.of(1, 2, 0xdeadbeef);
    const padded = new Uint8Array(13);
    padded.set(signatureToBytes(sig), 1);
    expect(signatureFromBytes(padded.subarray(1))).toEqual(sig);
  });

  it("reject a length that is not a multiple of 4", () => {
    expect(() => signatureFromBytes(new Uint8Array(7))).toThrow(RangeError);
  });
});

describe("fingerprint and bestNearDuplicate", () => {
  it("computes what the database stores", () => {
    const text = ORIGINAL.join(" ");
    const fp = fingerprint(text);
    expect(fp.contentHash).toBe(contentHash(text));
    expect(fp.signature).toEqual(minhashSignature(text));
  });

  it("picks the most similar candidate above the threshold, the earliest on a tie", () => {
    const sig = Uint32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    const candidates = [
      { id: "far", signature: Uint32Array.of(1, 2, 3, 4, 5, 0, 0, 0, 0, 0) },
      { id: "first", signature: Uint32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 0) },
      { id: "second", signature: Uint32Array.of(0, 2, 3, 4, 5, 6, 7, 8, 9, 10) },
    ];
    expect(bestNearDuplicate(sig, candidates, 0.8)).toEqual({ id: "first", similarity: 0.9 });
    expect(bestNearDuplicate(sig, candidates, 0.95)).toBeUndefined();
  });
});

describe("NearDuplicateIndex", () => {
  it("finds an exact duplicate that differs in whitespace and case", () => {
    const index = new NearDuplicateIndex();
    const text = ORIGINAL.join(" ");
    expect(index.add("a", text)).toEqual({});
    expect(index.add("b", `  ${text.toUpperCase().replace(/ /g, "\n")}`)).toEqual({
      duplicateOf: "a",
      kind: "exact",
      similarity: 1,
    });
  });

  it("finds a near duplicate with one sentence changed in 300 words", () => {
    const original = ORIGINAL.join(" ");
    const changed = ONE_SENTENCE_CHANGED.join(" ");
    expect(normalizeForHash(original).split(" ")).toHaveLength(300);
    expect(trueJaccard(original, changed)).toBeGreaterThanOrEqual(0.85);

    const index = new NearDuplicateIndex(0.8);
    index.add("a", original);
    const result = index.add("b", changed);
    expect(result.duplicateOf).toBe("a");
    expect(result.kind).toBe("near");
    expect(result.similarity).toBeGreaterThanOrEqual(0.8);
    expect(result.similarity).toBeLessThan(1);
  });

  it("does not match unrelated texts", () => {
    expect(trueJaccard(ORIGINAL.join(" "), UNRELATED.join(" "))).toBeLessThan(0.05);
    const index = new NearDuplicateIndex(0.8);
    index.add("a", ORIGINAL.join(" "));
    expect(index.add("b", UNRELATED.join(" "))).toEqual({});
    expect(index.size).toBe(2);
  });

  it("points a copy of a duplicate at the kept original", () => {
    const index = new NearDuplicateIndex();
    index.add("first", ORIGINAL.join(" "));
    index.add("unrelated", UNRELATED.join(" "));
    expect(index.add("copy", ONE_SENTENCE_CHANGED.join(" ")).duplicateOf).toBe("first");
    expect(index.add("copy-of-copy", ONE_SENTENCE_CHANGED.join("\n")).duplicateOf).toBe("first");
  });

  it("never points at a text that was itself a duplicate", () => {
    const index = new NearDuplicateIndex(0.8);
    const first = ORIGINAL;
    const second = [...first.slice(0, 10), ...generateText(7, 1), ...first.slice(11)];
    const third = [...second.slice(0, 3), ...generateText(8, 1), ...second.slice(4)];
    const similarity = (a: string[], b: string[]) =>
      estimateJaccard(minhashSignature(a.join(" ")), minhashSignature(b.join(" ")));
    // The third text is close to the second but not to the first: only a chain would link it to anything.
    expect(similarity(second, third)).toBeGreaterThanOrEqual(0.8);
    expect(similarity(first, third)).toBeLessThan(0.8);

    index.add("first", first.join(" "));
    expect(index.add("second", second.join(" ")).duplicateOf).toBe("first");
    expect(index.add("third", third.join(" "))).toEqual({});
  });

  it("uses the same functions as the database path", () => {
    const index = new NearDuplicateIndex(0.8);
    const original = fingerprint(ORIGINAL.join(" "));
    const changed = fingerprint(ONE_SENTENCE_CHANGED.join(" "));
    index.add("a", ORIGINAL.join(" "));
    const expected = bestNearDuplicate(changed.signature, [{ id: "a", signature: original.signature }]);
    expect(index.add("b", ONE_SENTENCE_CHANGED.join(" ")).similarity).toBe(expected?.similarity);
  });

  it("matches against stored chunks and precomputed fingerprints", () => {
    const stored = fingerprint(ORIGINAL.join(" "));
    const index = new NearDuplicateIndex(0.8);
    index.addKept("stored", stored.contentHash, signatureFromBytes(signatureToBytes(stored.signature)));
    expect(index.addFingerprint("same", fingerprint(ORIGINAL.join("\n")))).toEqual({
      duplicateOf: "stored",
      kind: "exact",
      similarity: 1,
    });
    expect(index.addFingerprint("changed", fingerprint(ONE_SENTENCE_CHANGED.join(" ")))).toMatchObject({
      duplicateOf: "stored",
      kind: "near",
    });
    expect(index.addFingerprint("other", fingerprint(UNRELATED.join(" ")))).toEqual({});
    expect(index.add("other-again", UNRELATED.join(" "))).toMatchObject({ duplicateOf: "other" });
  });

  it("rejects a signature of another length", () => {
    const index = new NearDuplicateIndex(0.8);
    expect(() => index.addKept("a", "hash", new Uint32Array(64))).toThrow(RangeError);
    const short = fingerprint("some text", { numHashes: 64 });
    expect(() => index.addFingerprint("b", short)).toThrow(RangeError);
  });

  it("rejects a reused id and an invalid threshold", () => {
    const index = new NearDuplicateIndex();
    index.add("a", "text");
    expect(() => index.add("a", "other text")).toThrow(RangeError);
    expect(() => new NearDuplicateIndex(0)).toThrow(RangeError);
    expect(() => new NearDuplicateIndex(0.8, { numHashes: -1 })).toThrow(RangeError);
  });
});
