import { describe, expect, it } from "vitest";
import { FINE_TUNABLE_MODELS, modelInfo, recommendedEpochs } from "./models.js";
import { countChatTokens } from "./tokens.js";

describe("modelInfo", () => {
  it.each([
    ["gpt-4o-mini-2024-07-18", "o200k_base", 65_536],
    ["gpt-4o-2024-08-06", "o200k_base", 65_536],
    ["gpt-4.1-2025-04-14", "o200k_base", 65_536],
    ["gpt-4.1-mini-2025-04-14", "o200k_base", 65_536],
    ["gpt-4.1-nano-2025-04-14", "o200k_base", 65_536],
    ["gpt-3.5-turbo-0125", "cl100k_base", 16_385],
    ["gpt-3.5-turbo-1106", "cl100k_base", 16_385],
    ["gpt-4-0613", "cl100k_base", 8_192],
  ])("knows %s: %s, %i tokens an example", (model, encoding, hardTokenLimit) => {
    expect(modelInfo(model)).toEqual({ encoding, hardTokenLimit, known: true });
  });

  it.each([
    ["gpt-4o-mini", "gpt-4o-mini-2024-07-18"],
    ["gpt-4o", "gpt-4o-2024-08-06"],
    ["gpt-4.1", "gpt-4.1-2025-04-14"],
    ["gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"],
    ["gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"],
    ["gpt-3.5-turbo", "gpt-3.5-turbo-0125"],
    ["gpt-4", "gpt-4-0613"],
  ])("resolves the family name %s like its snapshot %s", (family, snapshot) => {
    expect(modelInfo(family)).toEqual(modelInfo(snapshot));
  });

  it("resolves a fine-tuned model to its base, since fine-tuning it again keeps the base's limits", () => {
    expect(modelInfo("ft:gpt-3.5-turbo-0125:acme::8abc123")).toEqual(modelInfo("gpt-3.5-turbo-0125"));
  });

  it("counts unknown models with o200k_base and leaves their limit to the caller", () => {
    for (const model of ["meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", "gpt-4o-2024-05-13", ""]) {
      expect(modelInfo(model)).toEqual({ encoding: "o200k_base", hardTokenLimit: undefined, known: false });
    }
  });

  it("lists every snapshot of the table", () => {
    expect(FINE_TUNABLE_MODELS).toHaveLength(8);
    for (const model of FINE_TUNABLE_MODELS) expect(modelInfo(model).known).toBe(true);
  });

  it("gives the gpt-4o and gpt-3.5 families tokenizers that count the same text differently", () => {
    const messages = [
      {
        role: "user" as const,
        content: "Die Straßenbahn fährt über die Brücke nach Köln. 東京の天気は晴れです。",
      },
      { role: "assistant" as const, content: "Ja." },
    ];
    const gpt4o = countChatTokens(messages, modelInfo("gpt-4o-mini").encoding);
    const gpt35 = countChatTokens(messages, modelInfo("gpt-3.5-turbo").encoding);
    expect([gpt4o, gpt35]).toEqual([33, 42]);
  });
});

describe("recommendedEpochs", () => {
  it.each([
    [1, 25],
    [3, 25],
    [4, 25],
    [5, 20],
    [10, 10],
    [33, 3],
    [34, 3],
    [100, 3],
    [8_333, 3],
    [8_334, 2],
    [12_500, 2],
    [12_501, 1],
    [1_000_000, 1],
  ])("picks, as OpenAI's auto does, for %i examples %i epochs", (n, epochs) => {
    expect(recommendedEpochs(n)).toBe(epochs);
  });

  it("rejects a count that is not a non-negative integer", () => {
    expect(() => recommendedEpochs(-1)).toThrow(RangeError);
    expect(() => recommendedEpochs(2.5)).toThrow(RangeError);
  });
});
