import { describe, expect, it } from "vitest";
import {
  combineQuality,
  groundingScore,
  PAIR_QUALITY_WEIGHTS,
  PairDiversity,
  responseLengthScore,
  scorePair,
} from "./pair-quality.js";
import type { GeneratedPair } from "./types.js";

const SOURCE = [
  "Photosynthesis converts light energy into chemical energy inside the chloroplasts of leaf cells.",
  "Chlorophyll absorbs red and blue light. The light-dependent reactions split water, release oxygen",
  "and produce ATP and NADPH; the Calvin cycle then fixes carbon dioxide into sugars in the stroma.",
].join(" ");

const GROUNDED =
  "Chlorophyll in the chloroplasts absorbs red and blue light, and the light-dependent reactions split water to release oxygen.";
const UNGROUNDED =
  "Mitochondria burn glucose through glycolysis and the Krebs cycle, generating roughly thirty-six molecules per cycle.";

function words(count: number): string {
  return Array.from({ length: count }, (_, i) => `word${i}`).join(" ");
}

function qa(question: string, answer: string): GeneratedPair {
  return {
    mode: "qa",
    messages: [
      { role: "user", content: question },
      { role: "assistant", content: answer },
    ],
  };
}

describe("responseLengthScore", () => {
  it("scores empty and very short answers low, substantial ones 1, very long ones tapering", () => {
    expect(responseLengthScore("")).toBe(0);
    expect(responseLengthScore("Yes.")).toBeLessThan(0.1);
    expect(responseLengthScore(words(4))).toBeLessThan(0.2);
    expect(responseLengthScore(words(4))).toBeLessThan(responseLengthScore(words(10)));
    expect(responseLengthScore(words(15))).toBe(1);
    expect(responseLengthScore(words(200))).toBe(1);
    expect(responseLengthScore(words(800))).toBeCloseTo(0.5, 5);
    expect(responseLengthScore(words(1600))).toBeCloseTo(0.125, 5);
    expect(responseLengthScore(words(500))).toBeGreaterThan(responseLengthScore(words(1000)));
  });

  it("counts CJK characters as words, without spaces", () => {
    // 27 characters, about 13 English words: far from the near-zero score of a single "word".
    expect(responseLengthScore("光合作用将光能转化为化学能，发生在叶绿体中，并释放氧气。")).toBeGreaterThan(
      0.7,
    );
  });
});

describe("groundingScore", () => {
  it("scores an answer drawn from the source above an invented one", () => {
    expect(groundingScore(GROUNDED, SOURCE)).toBe(1);
    expect(groundingScore(UNGROUNDED, SOURCE)).toBeLessThan(0.2);
  });

  it("ignores stopwords and matches simple inflections", () => {
    expect(groundingScore("It converts the energy and it is absorbed by chlorophyll.", SOURCE)).toBe(1);
    expect(groundingScore("The reaction splits water.", SOURCE)).toBe(1);
  });

  it("counts invented numbers and names against the answer", () => {
    expect(groundingScore("Chlorophyll absorbs light at 680 nanometres, says Smith.", SOURCE)).toBeCloseTo(
      3 / 7,
      3,
    );
  });

  it("gives 0 to an answer with no content words", () => {
    expect(groundingScore("Yes, it is.", SOURCE)).toBe(0);
  });
});

describe("PairDiversity", () => {
  it("scores a repeated or rephrased question below a unique one", () => {
    const diversity = new PairDiversity();
    diversity.add("a", "What does chlorophyll absorb?");
    diversity.add("b", "What does chlorophyll absorb?");
    diversity.add("c", "What does the chlorophyll absorb, then?");
    diversity.add("d", "Where does the Calvin cycle take place?");
    diversity.add("e", "Which gas is released when water is split?");
    expect(diversity.score("a")).toBe(0);
    expect(diversity.score("b")).toBe(0);
    expect(diversity.score("c")).toBe(0);
    expect(diversity.score("d")).toBe(1);
    expect(diversity.score("d")).toBeGreaterThan(diversity.score("a"));
  });

  it("scores a partly similar question in between", () => {
    const diversity = new PairDiversity();
    diversity.add("a", "How do I rotate the staging database password safely?");
    diversity.add("b", "How do I rotate the production database password?");
    const score = diversity.score("a");
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThan(1);
  });

  it("gives a lone pair full diversity and refuses unknown or repeated ids", () => {
    const diversity = new PairDiversity();
    diversity.add("only", "What is ATP?");
    expect(diversity.score("only")).toBe(1);
    expect(() => diversity.add("only", "Again?")).toThrow(RangeError);
    expect(() => diversity.score("missing")).toThrow(RangeError);
  });

  it("finds the repeats among many distinct questions", () => {
    const diversity = new PairDiversity();
    const topics = [
      "chlorophyll",
      "stroma",
      "oxygen",
      "carbon",
      "sugar",
      "water",
      "light",
      "leaf",
      "cell",
      "atp",
    ];
    const question = (i: number) =>
      `Explain item${i} together with ${topics[i % 10]} and ${topics[Math.floor(i / 10) % 10]} in experiment${i}.`;
    for (let i = 0; i < 2000; i++) diversity.add(`q${i}`, question(i));
    diversity.add("repeat", question(1234).toUpperCase());
    expect(diversity.size).toBe(2001);
    expect(diversity.score("repeat")).toBe(0);
    expect(diversity.score("q1234")).toBe(0);
    // Templated questions share four of six content words with their nearest sibling: similar, not repeats.
    expect(diversity.score("q7")).toBeGreaterThan(0.2);
  });
});

describe("scorePair", () => {
  it("weights the three factors as documented, to 3 decimals", () => {
    const pair = qa("What does chlorophyll absorb?", GROUNDED);
    const quality = scorePair(pair, SOURCE, 0.8);
    expect(quality.breakdown).toEqual({ length: 1, grounding: 1, diversity: 0.8 });
    expect(quality.score).toBe(
      Math.round(
        (PAIR_QUALITY_WEIGHTS.length +
          PAIR_QUALITY_WEIGHTS.grounding +
          0.8 * PAIR_QUALITY_WEIGHTS.diversity) *
          1000,
      ) / 1000,
    );
    expect(combineQuality(quality.breakdown)).toBe(quality.score);
    expect(Object.values(PAIR_QUALITY_WEIGHTS).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  });

  it("rates a grounded answer above an ungrounded one, and a long answer above a short one", () => {
    const question = "What does chlorophyll absorb?";
    expect(scorePair(qa(question, GROUNDED), SOURCE, 1).score).toBeGreaterThan(
      scorePair(qa(question, UNGROUNDED), SOURCE, 1).score,
    );
    expect(scorePair(qa(question, "Red light."), SOURCE, 1).score).toBeLessThan(
      scorePair(qa(question, GROUNDED), SOURCE, 1).score,
    );
  });

  it("averages length over a dialogue's answers and clamps diversity", () => {
    const pair: GeneratedPair = {
      mode: "conversation",
      messages: [
        { role: "user", content: "What does chlorophyll absorb?" },
        { role: "assistant", content: GROUNDED },
        { role: "user", content: "Which light?" },
        { role: "assistant", content: "Red and blue." },
      ],
    };
    const quality = scorePair(pair, SOURCE, 7);
    expect(quality.breakdown.length).toBeGreaterThan(0.5);
    expect(quality.breakdown.length).toBeLessThan(1);
    expect(quality.breakdown.diversity).toBe(1);
    expect(scorePair(pair, SOURCE, Number.NaN).breakdown.diversity).toBe(0);
  });
});
