import { describe, expect, it } from "vitest";
import { lshParams } from "../near-duplicates.js";
import { countChatTokens } from "../tokens.js";
import {
  DatasetValidator,
  type ValidationIssue,
  type ValidationOptions,
  type ValidationPair,
  type ValidationResult,
  validatePairs,
} from "./validate-dataset.js";

/** Deterministic words from a 2,000-word vocabulary, so generated pairs share almost no 5-word shingle. */
function words(seed: number, count: number): string {
  let state = seed * 2654435761 + 1;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 8;
  };
  return Array.from({ length: count }, () => `w${next() % 2000}`).join(" ");
}

function qa(
  line: number,
  question: string,
  answer: string,
  extra: Partial<ValidationPair> = {},
): ValidationPair {
  return {
    id: `p${line}`,
    line,
    messages: [
      { role: "user", content: question },
      { role: "assistant", content: answer },
    ],
    ...extra,
  };
}

/** `count` distinct, unrelated, clean pairs on lines 1..count. */
function cleanPairs(count: number): ValidationPair[] {
  return Array.from({ length: count }, (_, i) =>
    qa(i + 1, `${words(i, 8)}?`, `${words(i + 1_000_000, 20)}.`),
  );
}

/** `count` clean pairs with `replacements` put on the lines they name. */
function datasetWith(count: number, ...replacements: ValidationPair[]): ValidationPair[] {
  const pairs = cleanPairs(count);
  for (const pair of replacements) pairs[pair.line - 1] = pair;
  return pairs;
}

function issue(result: ValidationResult, code: string): ValidationIssue | undefined {
  return result.issues.find((i) => i.code === code);
}

function codes(result: ValidationResult): string[] {
  return result.issues.map((i) => i.code);
}

function withMessages(line: number, messages: unknown): ValidationPair {
  return { id: `p${line}`, line, messages };
}

const OK_REPLY = { role: "assistant", content: "Fine." };

describe("validatePairs on a clean dataset", () => {
  const result = validatePairs(cleanPairs(60).map((pair) => ({ ...pair, qualityScore: 0.8 })));

  it("is valid with nothing to report", () => {
    expect(result).toMatchObject({ valid: true, errors: [], warnings: [], issues: [] });
  });

  it("keeps the seed's four stats and adds the token distribution, billing and epochs", () => {
    expect(Object.keys(result.stats)).toEqual([
      "totalPairs",
      "avgTokensPerPair",
      "avgQualityScore",
      "uniqueQuestions",
      "tokens",
      "billableTokens",
      "recommendedEpochs",
      "model",
      "encoding",
    ]);
    expect(result.stats).toMatchObject({
      totalPairs: 60,
      uniqueQuestions: 60,
      recommendedEpochs: 3,
      model: "gpt-4o-mini-2024-07-18",
      encoding: "o200k_base",
    });
    expect(result.stats.avgQualityScore).toBeCloseTo(0.8);
  });

  it("counts tokens exactly as export does", () => {
    const counts = cleanPairs(60).map((pair) =>
      countChatTokens(pair.messages as Parameters<typeof countChatTokens>[0], "o200k_base"),
    );
    const total = counts.reduce((a, b) => a + b, 0);
    expect(result.stats.billableTokens).toBe(total);
    expect(result.stats.avgTokensPerPair).toBeCloseTo(total / 60);
    expect(result.stats.tokens.min).toBe(Math.min(...counts));
    expect(result.stats.tokens.max).toBe(Math.max(...counts));
  });
});

describe("dataset size", () => {
  it("blocks fewer than 10 pairs, without also warning about fewer than 50", () => {
    const result = validatePairs(cleanPairs(7));
    expect(result.valid).toBe(false);
    expect(result.issues).toEqual([
      {
        code: "too_few_pairs",
        severity: "error",
        message: "7 pairs: fine-tuning needs at least 10",
        pairIds: [],
        lines: [],
      },
    ]);
    expect(result.errors).toEqual(["7 pairs: fine-tuning needs at least 10"]);
  });

  it("warns under 50 pairs", () => {
    const result = validatePairs(cleanPairs(30));
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual(["30 pairs: at least 50 are recommended"]);
    expect(codes(result)).toEqual(["few_pairs"]);
  });

  it("takes other thresholds", () => {
    expect(codes(validatePairs(cleanPairs(30), { minPairs: 40 }))).toEqual(["too_few_pairs"]);
    expect(codes(validatePairs(cleanPairs(30), { recommendedPairs: 20 }))).toEqual([]);
  });

  it("blocks an empty dataset", () => {
    const result = validatePairs([]);
    expect(codes(result)).toEqual(["too_few_pairs"]);
    expect(result.stats).toMatchObject({
      totalPairs: 0,
      avgTokensPerPair: 0,
      avgQualityScore: null,
      uniqueQuestions: 0,
      tokens: { min: 0, p50: 0, p95: 0, max: 0 },
      billableTokens: 0,
    });
  });
});

describe("the cookbook's format checks", () => {
  it.each([
    ["a string", "hello", ["data_type"]],
    ["an object", { role: "user", content: "hi" }, ["data_type"]],
    ["a list holding a string", ["hi", OK_REPLY], ["data_type"]],
    ["nothing", undefined, ["missing_messages_list"]],
    ["null", null, ["missing_messages_list"]],
    ["an empty list", [], ["missing_messages_list"]],
    ["a message without content", [{ role: "user" }, OK_REPLY], ["message_missing_key", "missing_content"]],
    ["a message without role", [{ content: "hi" }, OK_REPLY], ["message_missing_key", "unrecognized_role"]],
    [
      "an unknown key",
      [{ role: "user", content: "hi", tone: "polite" }, OK_REPLY],
      ["message_unrecognized_key"],
    ],
    ["an unknown role", [{ role: "bot", content: "hi" }, OK_REPLY], ["unrecognized_role"]],
    ["empty content", [{ role: "user", content: "" }, OK_REPLY], ["missing_content"]],
    ["non-string content", [{ role: "user", content: 42 }, OK_REPLY], ["missing_content"]],
    ["no assistant message", [{ role: "user", content: "hi" }], ["example_missing_assistant_message"]],
  ])("flags messages that are %s", (_, messages, expected) => {
    const result = validatePairs(datasetWith(60, withMessages(4, messages), withMessages(9, messages)));
    expect(codes(result)).toEqual(expected);
    for (const code of expected) {
      expect(issue(result, code)).toMatchObject({ severity: "error", pairIds: ["p4", "p9"], lines: [4, 9] });
    }
    expect(result.valid).toBe(false);
  });

  it("names the pairs and the cookbook code in the message", () => {
    const result = validatePairs(datasetWith(60, withMessages(4, [{ role: "user", content: "hi" }])));
    expect(result.errors).toEqual([
      "1 pair without an assistant message (example_missing_assistant_message): line 4 (id p4)",
    ]);
  });

  it("accepts what the cookbook accepts: names, weights, function calls with empty content", () => {
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is the weather?", name: "ana" },
      { role: "assistant", content: "", function_call: { name: "weather", arguments: "{}" }, weight: 0 },
      { role: "function", content: "sunny", name: "weather" },
      { role: "assistant", content: "Sunny.", weight: 1 },
    ];
    expect(validatePairs(datasetWith(60, withMessages(5, messages))).issues).toEqual([]);
  });

  it("leaves malformed pairs out of the token stats but counts them as pairs", () => {
    const result = validatePairs(datasetWith(60, withMessages(5, "oops")));
    expect(result.stats.totalPairs).toBe(60);
    expect(result.stats.uniqueQuestions).toBe(59);
  });
});

describe("blank messages", () => {
  it("blocks a message of only whitespace or invisible characters", () => {
    const result = validatePairs(
      datasetWith(60, qa(3, "   \n\t", "An answer."), qa(8, "A question?", "\u200b \u200d")),
    );
    expect(issue(result, "empty_content")).toEqual({
      code: "empty_content",
      severity: "error",
      message: "2 pairs with a message of only whitespace: lines 3, 8 (ids p3, p8)",
      pairIds: ["p3", "p8"],
      lines: [3, 8],
    });
  });
});

describe("token limits", () => {
  /** 13 tokens plus one per extra "hello" with either tokenizer (checked below). */
  const helloPair = (line: number, hellos: number) => qa(line, `hello${" hello".repeat(hellos - 1)}`, "Yes.");

  it("blocks an example over the model's hard limit and bills it only up to the limit", () => {
    const pairs = datasetWith(60, helloPair(3, 8_200), helloPair(9, 9_000));
    const result = validatePairs(pairs, { model: "gpt-4-0613" });
    expect(result.errors).toEqual([
      "2 pairs over 8,192 tokens (the limit for gpt-4-0613): lines 3, 9 (ids p3, p9)",
    ]);
    expect(issue(result, "over_token_limit")).toMatchObject({ pairIds: ["p3", "p9"], lines: [3, 9] });
    expect(issue(result, "over_recommended_tokens")).toBeUndefined();
    const unlimited = validatePairs(pairs, { model: "gpt-4-0613", hardTokenLimit: 100_000 });
    expect(unlimited.stats.billableTokens - result.stats.billableTokens).toBe(
      8_213 - 8_192 + (9_013 - 8_192),
    );
    expect(result.stats.tokens.max).toBe(9_013);
  });

  it("warns over the recommended 4,096 tokens when the hard limit allows it", () => {
    const result = validatePairs(datasetWith(60, helloPair(6, 5_000)));
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual(["1 pair over 4,096 tokens (the recommended maximum): line 6 (id p6)"]);
    expect(issue(result, "over_recommended_tokens")).toMatchObject({ severity: "warning", lines: [6] });
  });

  it("sets no limit for an unknown model unless one is configured", () => {
    const pairs = datasetWith(60, helloPair(2, 70_000));
    const model = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference";
    const open = validatePairs(pairs, { model });
    expect(codes(open)).toEqual(["over_recommended_tokens"]);
    expect(open.stats).toMatchObject({ model, encoding: "o200k_base" });
    expect(open.stats.billableTokens).toBe(open.stats.avgTokensPerPair * 60);

    const limited = validatePairs(pairs, { model, hardTokenLimit: 32_768 });
    expect(limited.errors).toEqual([`1 pair over 32,768 tokens (the limit for ${model}): line 2 (id p2)`]);
  });

  it("rejects a hard limit that is not a positive integer", () => {
    expect(() => new DatasetValidator({ hardTokenLimit: 0 })).toThrow(RangeError);
  });

  it("counts with the model's tokenizer: o200k_base for gpt-4o, cl100k_base for gpt-3.5", () => {
    const pair = qa(1, "Die Straßenbahn fährt über die Brücke nach Köln. 東京の天気は晴れです。", "Ja.");
    const gpt4o = validatePairs([pair], { model: "gpt-4o-2024-08-06" }).stats;
    const gpt35 = validatePairs([pair], { model: "gpt-3.5-turbo-0125" }).stats;
    expect([gpt4o.encoding, gpt35.encoding]).toEqual(["o200k_base", "cl100k_base"]);
    expect([gpt4o.billableTokens, gpt35.billableTokens]).toEqual([33, 42]);
  });

  it("gives exact nearest-rank percentiles", () => {
    // Token counts 14..113, in a scrambled order.
    const hellos = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    const result = validatePairs(hellos.map((n, i) => helloPair(i + 1, n)));
    expect(result.stats.tokens).toEqual({ min: 14, p50: 63, p95: 108, max: 113 });
    expect(result.stats.avgTokensPerPair).toBe(63.5);
  });
});

describe("duplicates", () => {
  const answer = words(7, 200);

  it("blocks a pair repeating an earlier one up to case, punctuation and spacing", () => {
    const result = validatePairs(
      datasetWith(
        60,
        qa(2, "What is the refund window?", "Thirty days."),
        qa(5, "what is the refund  window", "Thirty days!"),
        qa(9, "WHAT IS THE REFUND WINDOW?", "thirty days"),
      ),
    );
    expect(issue(result, "exact_duplicate")).toEqual({
      code: "exact_duplicate",
      severity: "error",
      message: "2 pairs repeating an earlier pair: lines 5 (same as line 2), 9 (same as line 2) (ids p5, p9)",
      pairIds: ["p5", "p9"],
      lines: [5, 9],
    });
    expect(issue(result, "near_duplicate")).toBeUndefined();
    expect(result.stats.uniqueQuestions).toBe(58);
  });

  it("warns about a near-duplicate, found through the LSH index", () => {
    const edited = answer.replace(
      /^(\S+ ){100}\S+/,
      (run) => `${run.slice(0, run.lastIndexOf(" "))} changed`,
    );
    expect(edited).not.toBe(answer);
    const result = validatePairs(
      datasetWith(
        60,
        qa(3, "Tell me about the ledger.", answer),
        qa(11, "Tell me about the ledger!", edited),
      ),
    );
    expect(issue(result, "near_duplicate")).toEqual({
      code: "near_duplicate",
      severity: "warning",
      message:
        "1 pair nearly the same as an earlier pair (90% similar or more): line 11 (like line 3) (id p11)",
      pairIds: ["p11"],
      lines: [11],
    });
    expect(issue(result, "exact_duplicate")).toBeUndefined();
  });

  it("does not flag pairs that share only part of their text", () => {
    const half = `${answer.split(" ").slice(0, 100).join(" ")} ${words(8, 100)}`;
    const result = validatePairs(datasetWith(60, qa(3, "About the ledger?", answer), qa(11, "And?", half)));
    expect(issue(result, "near_duplicate")).toBeUndefined();
  });

  it("ignores a shared system prompt when comparing pairs", () => {
    const system = { role: "system", content: words(99, 300) };
    const pairs = cleanPairs(60).map((pair) => ({
      ...pair,
      messages: [system, ...(pair.messages as object[])],
    }));
    expect(validatePairs(pairs).issues).toEqual([]);
  });

  it("takes another near-duplicate threshold", () => {
    const edited = answer
      .split(" ")
      .map((word, i) => (i % 20 === 0 ? "x" : word))
      .join(" ");
    const pairs = datasetWith(60, qa(3, "Q one?", answer), qa(11, "Q two?", edited));
    expect(issue(validatePairs(pairs), "near_duplicate")).toBeUndefined();
    expect(issue(validatePairs(pairs, { nearDuplicateThreshold: 0.5 }), "near_duplicate")?.lines).toEqual([
      11,
    ]);
  });
});

describe("the same question with different answers", () => {
  it("warns on each later pair that answers an earlier pair's question differently", () => {
    const result = validatePairs(
      datasetWith(
        60,
        qa(2, "How long is the warranty?", "Two years."),
        qa(6, "How long is the warranty", "Three years."),
        qa(8, "how long is the warranty?", "Two years, from delivery."),
      ),
    );
    expect(issue(result, "conflicting_answers")).toEqual({
      code: "conflicting_answers",
      severity: "warning",
      message:
        "2 pairs asking an earlier pair's question with a different answer: lines 6 (asked in line 2), 8 (asked in line 2) (ids p6, p8)",
      pairIds: ["p6", "p8"],
      lines: [6, 8],
    });
    expect(result.stats.uniqueQuestions).toBe(58);
  });

  it("takes the first user message as the question and the reply after it as the answer", () => {
    const conversation = (line: number, followUp: string) =>
      withMessages(line, [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Where is the office?" },
        { role: "assistant", content: "In Lyon." },
        { role: "user", content: followUp },
        { role: "assistant", content: "Yes." },
      ]);
    const result = validatePairs(
      datasetWith(60, conversation(4, "Is it open?"), conversation(7, "Near the station?")),
    );
    expect(issue(result, "conflicting_answers")).toBeUndefined();
    expect(result.stats.uniqueQuestions).toBe(59);
  });
});

describe("quality", () => {
  it("warns below 0.3 and averages only the pairs that have a score", () => {
    const scores = [0.1, 0.29, 0.3, null, undefined, 0.9];
    const pairs = cleanPairs(60).map((pair, i) => ({ ...pair, qualityScore: scores[i] ?? null }));
    const result = validatePairs(pairs);
    expect(issue(result, "low_quality")).toEqual({
      code: "low_quality",
      severity: "warning",
      message: "2 pairs with a quality score below 0.3: lines 1, 2 (ids p1, p2)",
      pairIds: ["p1", "p2"],
      lines: [1, 2],
    });
    expect(result.stats.avgQualityScore).toBeCloseTo((0.1 + 0.29 + 0.3 + 0.9) / 4);
  });

  it("takes another threshold", () => {
    const pairs = cleanPairs(60).map((pair) => ({ ...pair, qualityScore: 0.5 }));
    expect(issue(validatePairs(pairs, { lowQuality: 0.6 }), "low_quality")?.lines).toHaveLength(60);
  });
});

describe("secrets and personal data", () => {
  it("warns about API keys, naming their kind and never quoting them", () => {
    const key = "sk-proj-Q3x9Lm2Vb7Nc4Zt8Rw1Yp6Hs0Kd5Fg";
    const result = validatePairs(
      datasetWith(
        60,
        qa(4, "How do I call the API?", `Send ${key} with every request.`),
        qa(5, "Which key is in the docs?", "AKIAIOSFODNN7EXAMPLE, AWS's documented example."),
      ),
    );
    const secret = issue(result, "secret");
    expect(secret).toEqual({
      code: "secret",
      severity: "warning",
      message: "1 pair containing secrets (OpenAI API key): line 4 (id p4)",
      pairIds: ["p4"],
      lines: [4],
    });
    expect(JSON.stringify(result)).not.toContain(key);
  });

  it("warns about email addresses, phone numbers, IBANs and Luhn-valid card numbers", () => {
    const result = validatePairs(
      datasetWith(
        60,
        qa(2, "Who do I write to?", "Write to jane.doe@acme-corp.io for refunds."),
        qa(3, "Who do I call?", "Call +49 30 1234567 or (555) 123-4567."),
        qa(4, "Where do I pay?", "Transfer to DE89 3704 0044 0532 0130 00."),
        qa(5, "Which card was charged?", "The card 4539 1488 0343 6467 was charged."),
      ),
    );
    expect(issue(result, "personal_data")).toEqual({
      code: "personal_data",
      severity: "warning",
      message:
        "4 pairs containing personal data (email address, phone number, IBAN, payment card number): lines 2, 3, 4, 5 (ids p2, p3, p4, p5)",
      pairIds: ["p2", "p3", "p4", "p5"],
      lines: [2, 3, 4, 5],
    });
  });

  it("leaves documentation's look-alikes alone", () => {
    const result = validatePairs(
      datasetWith(
        60,
        qa(2, "Example address?", "Use user@example.com or admin@test in the docs."),
        qa(3, "Test card?", "Stripe's test card 4242 4242 4242 4242 always succeeds."),
        qa(4, "Order number?", "Order 4539 1488 0343 6468 shipped on 2024-07-18, version 1.2.3."),
        qa(5, "Not an IBAN?", "The code DE89 3704 0044 0532 0130 01 fails its checksum."),
        qa(6, "Timestamp?", "The event happened at 1700000000000 ms, in 2024."),
      ),
    );
    expect(result.issues).toEqual([]);
  });

  it("scans system prompts too, since they are trained on as well", () => {
    const messages = [{ role: "system", content: "Escalate to ops@acme-corp.io." }, ...qaMessages()];
    expect(issue(validatePairs(datasetWith(60, withMessages(7, messages))), "personal_data")?.lines).toEqual([
      7,
    ]);
  });

  function qaMessages() {
    return [
      { role: "user", content: "Who handles outages?" },
      { role: "assistant", content: "The operations team." },
    ];
  }
});

describe("messages naming many pairs", () => {
  it("list ten pairs and count the rest, with ids shortened; the structured issue keeps them all", () => {
    const ids = Array.from(
      { length: 15 },
      (_, i) => `0b1e${String(i).padStart(4, "0")}-5f3a-4c2d-9e8f-1a2b3c4d5e6f`,
    );
    const pairs = cleanPairs(60).map((pair, i) => ({
      ...pair,
      id: ids[i] ?? pair.id,
      qualityScore: i < 15 ? 0 : 1,
    }));
    const lowQuality = issue(validatePairs(pairs), "low_quality");
    expect(lowQuality?.message).toBe(
      "15 pairs with a quality score below 0.3: lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 5 more " +
        "(ids 0b1e0000…, 0b1e0001…, 0b1e0002…, 0b1e0003…, 0b1e0004…, 0b1e0005…, 0b1e0006…, 0b1e0007…, 0b1e0008…, 0b1e0009…)",
    );
    expect(lowQuality?.pairIds).toEqual(ids);
    expect(lowQuality?.lines).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  });

  it("lists errors before warnings in the order of the rules", () => {
    const result = validatePairs(
      datasetWith(
        40,
        withMessages(2, "oops"),
        qa(3, "Who?", "Mail bob@acme-corp.io.", { qualityScore: 0.1 }),
        qa(4, "Who?", "Mail bob@acme-corp.io."),
      ),
    );
    expect(result.issues.map((i) => [i.code, i.severity])).toEqual([
      ["data_type", "error"],
      ["exact_duplicate", "error"],
      ["few_pairs", "warning"],
      ["low_quality", "warning"],
      ["personal_data", "warning"],
    ]);
    expect(result.errors).toHaveLength(2);
    expect(result.warnings).toHaveLength(3);
  });
});

describe("DatasetValidator", () => {
  it("streams: adding pairs one by one gives what validatePairs gives, and result() can be asked any time", () => {
    const pairs = datasetWith(60, qa(5, "Same?", "Yes."), qa(6, "Same?", "Yes."));
    const validator = new DatasetValidator();
    for (const pair of pairs.slice(0, 20)) validator.add(pair);
    expect(validator.result().stats.totalPairs).toBe(20);
    for (const pair of pairs.slice(20)) validator.add(pair);
    expect(validator.result()).toEqual(validatePairs(pairs));
  });

  it("says as each pair is added whether it has an error, so an export can leave it out in the same pass", () => {
    const validator = new DatasetValidator({ hardTokenLimit: 50 });
    const verdicts = [
      qa(1, "Where is the archive?", "In the basement."),
      qa(2, "Where is the ARCHIVE", "In the basement!"), // an exact duplicate, up to case and punctuation
      qa(3, "Where is the archive kept?", "In the basement, left of the stairs."), // a near one: a warning
      qa(4, "Describe it.", words(7, 60)), // over the 50-token limit
      { id: "p5", line: 5, messages: [{ role: "user", content: "No answer?" }] },
      qa(6, "Who keeps it?", "The librarian.", { qualityScore: 0.1 }), // low quality: a warning
    ].map((pair) => validator.add(pair));
    expect(verdicts).toEqual([true, false, true, false, false, true]);
    const result = validator.result();
    expect(result.issues.filter((i) => i.severity === "error").flatMap((i) => i.lines)).toEqual(
      expect.arrayContaining([2, 4, 5]),
    );
  });

  it("gives the same result sized for the expected pairs, holding less memory than when it grows", () => {
    const pairs = datasetWith(5_000, qa(10, "Same?", "Yes."), qa(20, "Same?", "Yes."));
    const grown = new DatasetValidator();
    const sized = new DatasetValidator({ expectedPairs: pairs.length });
    for (const pair of pairs) {
      grown.add(pair);
      sized.add(pair);
    }
    expect(sized.result()).toEqual(grown.result());
    expect(sized.footprint().bytes).toBeLessThan(grown.footprint().bytes);
  });

  it("rejects a line that is not a positive integer", () => {
    expect(() => new DatasetValidator().add({ id: "x", line: 0, messages: [] })).toThrow(RangeError);
  });

  it("validates 200,000 pairs in bounded memory per pair", () => {
    const count = 200_000;
    const options: ValidationOptions = { nearDuplicateThreshold: 0.9 };
    const validator = new DatasetValidator(options);
    const longAnswer = words(42, 120);
    for (let line = 1; line <= count; line++) {
      if (line === 1_000) validator.add(qa(line, "Describe the archive.", longAnswer));
      else if (line === 199_000)
        validator.add(qa(line, "Describe the archive again.", `${longAnswer} indeed`));
      else validator.add(qa(line, words(line, 6), words(line + count, 10)));
    }
    const result = validator.result();
    expect(result.stats.totalPairs).toBe(count);
    expect(result.stats.recommendedEpochs).toBe(1);
    expect(issue(result, "near_duplicate")?.lines).toEqual([199_000]);

    const { bands } = lshParams(128, 0.9);
    const footprint = validator.footprint();
    expect(footprint.nearDuplicateEntries).toBeLessThanOrEqual(bands * count);
    // Typed arrays only, spare capacity included (about 290 bytes a pair here): never the pairs' text.
    expect(footprint.bytes / count).toBeLessThan(400);
    // ~12 s of CPU alone; with other test files sharing the 2 cores it has taken over 30 s.
  }, 120_000);
});
