import { describe, expect, it } from "vitest";
import {
  coherenceScore,
  lengthScore,
  QUALITY_WEIGHTS,
  scoreChunkQuality,
  structureScore,
  vocabularyScore,
} from "./chunk-quality.js";

const GOOD_PROSE = [
  "# Photosynthesis",
  "",
  "Photosynthesis is the process by which green plants convert light energy into chemical energy. It takes place mainly in the chloroplasts of leaf cells, where chlorophyll absorbs red and blue light. The plant combines carbon dioxide from the air with water drawn up from the soil.",
  "",
  "The light-dependent reactions happen in the thylakoid membranes. They split water molecules, release oxygen, and produce ATP and NADPH. The Calvin cycle then uses that energy in the stroma to fix carbon into sugars. Temperature, light intensity and carbon dioxide concentration all limit the overall rate.",
].join("\n");

const REPETITIVE = Array.from({ length: 40 }, () => "The cat sat on the mat.").join(" ");

/** Random symbol soup, different every "word" so it is not merely repetitive. */
function garbage(words: number): string {
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789$#@%^&*;:~|{}[]<>/\\=+-_";
  return Array.from({ length: words }, () =>
    Array.from({ length: 1 + Math.floor(next() * 6) }, () => chars[Math.floor(next() * chars.length)]).join(
      "",
    ),
  ).join(" ");
}

const VARIED_WORDS = `Rivers carve valleys slowly while glaciers grind mountains into gravel sand and silt that wind
carries across plains where farmers plant wheat barley oats and maize each spring before summer storms arrive
bringing hail lightning floods and sometimes drought when clouds vanish for weeks leaving reservoirs low and
engineers debating pipelines canals desalination plants solar pumps cisterns wells aquifers and recycling`;

const LONG_PROSE = `${GOOD_PROSE}

Bridges carry roads across rivers, valleys and railways. Early builders used timber and stone, shaping arches
that pushed their load outward into solid abutments. Iron arrived in the eighteenth century, and steel soon
after, allowing longer spans with slender trusses. Suspension bridges hang their deck from cables draped over
tall towers, while cable-stayed designs run straight stays from each tower to the deck.

Engineers must consider wind, traffic, temperature and the ground beneath every pier. A gusty crosswind can set
a light deck oscillating, as the collapse of one famous bridge in 1940 showed. Modern designers test scale
models in wind tunnels and add dampers that absorb vibration. Expansion joints let the structure grow in summer
heat and shrink during winter frost without cracking.

Maintenance matters as much as design. Inspectors climb girders to look for rust, loose bolts and fatigue cracks,
and drones now photograph places that people cannot easily reach. Salt spread on icy roads speeds corrosion, so
coatings are renewed on a schedule. Some old crossings become footpaths once heavier vehicles move to a newer
structure nearby, keeping a piece of local history in daily use.`;

describe("scoreChunkQuality", () => {
  it("ranks good prose above repetitive text, and repetitive text above garbage", () => {
    const good = scoreChunkQuality(GOOD_PROSE, 150).score;
    const repetitive = scoreChunkQuality(REPETITIVE, 280).score;
    const soup = scoreChunkQuality(garbage(150), 400).score;
    expect(good).toBeGreaterThan(0.85);
    expect(good).toBeGreaterThan(repetitive + 0.1);
    expect(repetitive).toBeGreaterThan(soup + 0.1);
  });

  it("is the weighted mean of its rounded factors, rounded to 3 decimals", () => {
    for (const [text, tokens] of [
      [GOOD_PROSE, 150],
      [REPETITIVE, 280],
      [garbage(40), 90],
      ["", 0],
    ] as const) {
      const { score, breakdown } = scoreChunkQuality(text, tokens);
      const weighted =
        breakdown.length * QUALITY_WEIGHTS.length +
        breakdown.vocabulary * QUALITY_WEIGHTS.vocabulary +
        breakdown.structure * QUALITY_WEIGHTS.structure +
        breakdown.coherence * QUALITY_WEIGHTS.coherence;
      expect(score).toBe(Math.round(weighted * 1000) / 1000);
      for (const value of [score, ...Object.values(breakdown)]) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
        expect(Math.round(value * 1000) / 1000).toBe(value);
      }
    }
  });

  it("weighs its factors to a total of 1", () => {
    const total = Object.values(QUALITY_WEIGHTS).reduce((sum, weight) => sum + weight, 0);
    expect(total).toBeCloseTo(1, 10);
  });

  it("scores empty text 0", () => {
    expect(scoreChunkQuality("", 0)).toEqual({
      score: 0,
      breakdown: { length: 0, vocabulary: 0, structure: 0, coherence: 0 },
    });
  });
});

describe("lengthScore", () => {
  it("is 0 for no tokens or nonsense counts", () => {
    expect(lengthScore(0)).toBe(0);
    expect(lengthScore(-5)).toBe(0);
    expect(lengthScore(Number.NaN)).toBe(0);
  });

  it("is low for short chunks and rises towards 100 tokens", () => {
    expect(lengthScore(10)).toBeLessThan(0.1);
    expect(lengthScore(50)).toBeLessThan(0.5);
    expect(lengthScore(20)).toBeLessThan(lengthScore(50));
    expect(lengthScore(50)).toBeLessThan(lengthScore(90));
  });

  it("is 1 on the 100–600 token plateau", () => {
    for (const tokens of [100, 250, 512, 600]) expect(lengthScore(tokens)).toBe(1);
  });

  it("falls for long chunks and is low beyond 1000 tokens", () => {
    expect(lengthScore(800)).toBeLessThan(1);
    expect(lengthScore(800)).toBeGreaterThan(lengthScore(1000));
    expect(lengthScore(1000)).toBeLessThanOrEqual(0.4);
    expect(lengthScore(2000)).toBeLessThan(0.15);
    expect(lengthScore(1_000_000)).toBeGreaterThanOrEqual(0);
  });
});

describe("vocabularyScore", () => {
  it("is 0 without words", () => {
    expect(vocabularyScore("")).toBe(0);
    expect(vocabularyScore("--- *** !!!")).toBe(0);
  });

  it("is 0 for one word repeated, whatever its case", () => {
    expect(vocabularyScore("data ".repeat(200))).toBe(0);
    expect(vocabularyScore("The the THE tHe ".repeat(50))).toBe(0);
  });

  it("is low for repetitive text and high for varied prose", () => {
    expect(vocabularyScore(REPETITIVE)).toBeLessThan(0.1);
    expect(vocabularyScore(GOOD_PROSE)).toBeGreaterThan(0.9);
    expect(vocabularyScore(VARIED_WORDS)).toBe(1);
  });

  it("does not drop just because varied text is longer", () => {
    const words = LONG_PROSE.split(/\s+/);
    const opening = words.slice(0, 60).join(" ");
    expect(words.length).toBeGreaterThan(250);
    expect(vocabularyScore(LONG_PROSE)).toBeGreaterThan(0.9);
    expect(Math.abs(vocabularyScore(LONG_PROSE) - vocabularyScore(opening))).toBeLessThan(0.1);
  });

  it("reads each character of unspaced scripts as a word", () => {
    expect(
      vocabularyScore("光合作用是植物利用光能把二氧化碳和水转化为有机物并释放氧气的过程。"),
    ).toBeGreaterThan(0.8);
    expect(
      vocabularyScore("的的的的的的的的的的的的的的的的的的的的的的的的的的的的的的的的的的的的的的"),
    ).toBe(0);
  });
});

describe("structureScore", () => {
  it("is 0 for empty text and 0.2 for a single plain paragraph", () => {
    expect(structureScore("   ")).toBe(0);
    expect(structureScore("Just one plain paragraph of text.")).toBe(0.2);
  });

  it("rises with each kind of Markdown structure present", () => {
    const heading = "# Title\n\nSome text.";
    const list = `${heading}\n\n- one\n- two`;
    const code = `${list}\n\n\`\`\`sh\nnpm test\n\`\`\``;
    const tableText = `${code}\n\n| a | b |\n| --- | --- |\n| 1 | 2 |`;
    const scores = [structureScore("Some text."), structureScore(heading), structureScore(list)];
    scores.push(structureScore(code), structureScore(tableText));
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThan(scores[i - 1] as number);
    expect(structureScore(tableText)).toBe(1);
  });

  it("counts a second paragraph as structure", () => {
    expect(structureScore("First paragraph.\n\nSecond paragraph.")).toBeGreaterThan(
      structureScore("One paragraph."),
    );
  });

  it("ignores a hash or dash that does not start a heading or list item", () => {
    expect(structureScore("Issue #42 was fixed - finally.")).toBe(0.2);
  });
});

describe("coherenceScore", () => {
  it("is 1 for well-formed prose", () => {
    expect(coherenceScore(GOOD_PROSE)).toBe(1);
  });

  it("is 0 for text without any prose, code or table", () => {
    expect(coherenceScore("")).toBe(0);
    expect(coherenceScore("# Just a heading")).toBe(0);
  });

  it("is neutral for a chunk of only code or tables", () => {
    expect(coherenceScore("```js\nconst x = 1;\n```")).toBe(0.5);
    expect(coherenceScore("| a | b |\n| --- | --- |\n| 1 | 2 |")).toBe(0.5);
  });

  it("is near 0 for symbol soup", () => {
    expect(coherenceScore(garbage(200))).toBeLessThan(0.1);
  });

  it("penalises fragments without capitals or terminal punctuation", () => {
    const fragments = "click here\nnext page\nhome about contact\nprivacy terms\nlogin";
    expect(coherenceScore(fragments)).toBeLessThan(0.5);
  });

  it("penalises a long run-on against the same words as sentences", () => {
    const words = VARIED_WORDS.replace(/\s+/g, " ");
    const runOn = `${words[0]?.toUpperCase()}${words.slice(1)} ${words}.`;
    const split = runOn
      .replace(/ (plant|bringing|engineers|carries) /g, ". $1 ")
      .replace(/\. (\w)/g, (_, c) => `. ${c.toUpperCase()}`);
    expect(coherenceScore(runOn)).toBeLessThan(0.8);
    expect(coherenceScore(split)).toBeGreaterThan(coherenceScore(runOn));
  });

  it("reads Chinese and Japanese sentences, which end in a full stop with no space after it", () => {
    const chinese =
      "今天早上下雨了，所以我们决定在家里做饭。妈妈教我的这道菜非常简单，味道也很好。" +
      "周末朋友们也要来，我打算再做一次给他们尝尝。天气预报说明天会晴天。";
    const japanese =
      "今日は朝から雨が降っていたので、私たちは家で料理を作ることにしました。" +
      "母が教えてくれたカレーのレシピは、とても簡単でおいしいです。「また作ろうね」と母に言いました。" +
      "本当においしかったです？！";
    expect(coherenceScore(chinese)).toBe(1);
    expect(coherenceScore(japanese)).toBe(1);
    // Without its full stops it is one run-on of 70 characters, each a word in a script without spaces.
    expect(coherenceScore(chinese.replace(/。/g, "，"))).toBeLessThan(1);
  });

  it("does not ask list items to end like sentences", () => {
    expect(coherenceScore("- Install the command line tool\n- Create a new project\n- Run the tests")).toBe(
      1,
    );
  });

  it("weighs sentences by their length", () => {
    const mostlyGood = `${GOOD_PROSE}\n\nok`;
    expect(coherenceScore(mostlyGood)).toBeGreaterThan(0.9);
    expect(coherenceScore(mostlyGood)).toBeLessThan(1);
  });

  it("leaves code blocks and headings out of the judgement", () => {
    const withCode = `${GOOD_PROSE}\n\n\`\`\`js\nx=>{;;}[]%%$$##\n\`\`\``;
    expect(coherenceScore(withCode)).toBe(1);
  });
});
