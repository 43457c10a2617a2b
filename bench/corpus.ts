import { seededRandom } from "../src/core/random.js";

/**
 * A deterministic Markdown corpus for benchmarks: documentation-like files with headings, prose, lists,
 * code and tables, and a share of repeated and lightly edited sections, as real document sets have.
 */
// Everyday documentation words, then made-up ones from syllables: real corpora have tens of thousands of
// distinct words, and a small vocabulary would flatter the tokenizer's cache.
const COMMON = (
  "the a to of and in is for on with as by be this that it from or are can you your when if not will an " +
  "service request user account billing invoice configure install server client token model dataset training " +
  "review export validate document project budget queue worker provider error retry limit access policy team"
).split(" ");
const SYLLABLES = "ka lo mi ren tor vel shi qua dex pli mon zu fer gra ni sto vra len ber cus".split(" ");

export function generateCorpus(totalBytes: number, fileBytes = 100_000): string[] {
  const next = seededRandom(42);
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)] as T;
  const rare = Array.from({ length: 30_000 }, () =>
    Array.from({ length: 2 + Math.floor(next() * 3) }, () => pick(SYLLABLES)).join(""),
  );
  // Zipf-like: common words half the time, then rarer made-up words ever less often.
  const word = () => (next() < 0.5 ? pick(COMMON) : (rare[Math.floor(rare.length * next() ** 3)] as string));
  const sentence = () => {
    const words = Array.from({ length: 8 + Math.floor(next() * 14) }, word);
    return `${words.join(" ").replace(/^./, (c) => c.toUpperCase())}.`;
  };
  const paragraph = () => Array.from({ length: 3 + Math.floor(next() * 5) }, sentence).join(" ");
  const sections: string[] = [];
  const section = (level: number) => {
    if (sections.length > 20 && next() < 0.05) return pick(sections); // a copied section
    const parts = [`${"#".repeat(level)} ${sentence().slice(0, 40)}`, paragraph(), paragraph()];
    if (next() < 0.4) parts.push(Array.from({ length: 4 }, () => `- ${sentence()}`).join("\n"));
    if (next() < 0.2) parts.push(`\`\`\`ts\nconst ${word()} = await client.${word()}({ retry: 3 });\n\`\`\``);
    if (next() < 0.15) parts.push(`| key | value |\n| --- | --- |\n| ${word()} | ${word()} |`);
    const text = parts.join("\n\n");
    sections.push(text);
    return text;
  };
  const files: string[] = [];
  let size = 0;
  while (size < totalBytes) {
    const parts: string[] = [];
    let fileSize = 0;
    while (fileSize < fileBytes) {
      const text = section(1 + Math.floor(next() * 3));
      parts.push(text);
      fileSize += text.length + 2;
    }
    const file = parts.join("\n\n");
    files.push(file);
    size += Buffer.byteLength(file);
  }
  return files;
}
