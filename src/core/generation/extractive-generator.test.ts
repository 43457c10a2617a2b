import { describe, expect, it } from "vitest";
import { parseMarkdown } from "../../parsers/parse-markdown.js";
import { chunkBlocks } from "../chunk-blocks.js";
import type { GenerationMode } from "../statuses.js";
import {
  EXTRACTIVE_MODEL,
  EXTRACTIVE_PROMPT_VERSION,
  extractiveGenerator,
  extractPairs,
} from "./extractive-generator.js";
import type { GeneratedPair, GenerationRequest, GenerationResult } from "./types.js";

// Chunks as the chunker renders them: heading lines, then blocks apart by blank lines.
const HOW_TO = `# FineFlow Guide
## Configure Backups

Backups protect your datasets against accidental deletion. FineFlow writes one archive per project every night.

To configure backups, follow these steps:

1. Open the project settings.
2. Choose a storage bucket under Backups.
3. Set the retention period in days.
4. Click Save.`;

const GLOSSARY = `# Glossary

A chunk is a piece of a document small enough for one prompt. It always starts with the headings above it.

Deduplication means removing chunks that repeat content already kept. Tokens are the units a model reads and writes.

- Pair: a user message and the assistant's answer to it.
- Dataset: a named set of pairs exported together.`;

const FAQ = `# FAQ
## How do I reset my password?

Open the sign-in page and choose "Forgot password". A reset link arrives by email within five minutes.

## Billing

Q: Can I pay by invoice?

A: Yes. Invoices are available on the Team plan and above.`;

const TABLE = `# Pricing
## Training prices

| Model | Price per 1M tokens | Context |
| --- | --- | --- |
| gpt-4o-mini | $3.00 | 128k |
| gpt-4.1 | $25.00 | 1M |`;

const CODE = `# CLI
## Generate a Dataset

Run the generate command with the project name:

\`\`\`bash
fineflow generate --project docs --mode qa
\`\`\``;

const HEADING_ONLY = "# Guide\n## Install";

const CODE_ONLY = "```js\nconsole.log(process.env.HOME);\n```";

const GERMAN = `# Handbuch
## Datensicherung

Die Datensicherung läuft jede Nacht um zwei Uhr. Sie speichert alle Projekte in einem Archiv. Ältere Archive werden nach 30 Tagen gelöscht.`;

/** Starts inside a sentence, as a chunk that opens with the previous chunk's overlap does. */
const OVERLAP = `# Guide
## Deploy to Kubernetes

the cluster before you start. Kubernetes is a container orchestrator that runs the workers. There is a limit of ten pods per project. The server is running now. Workers are stateless processes that pull jobs from the queue. They scale horizontally.

The worker count is configurable`;

const FIXTURES: Record<string, { text: string; headingPath: string[] }> = {
  howTo: { text: HOW_TO, headingPath: ["FineFlow Guide", "Configure Backups"] },
  glossary: { text: GLOSSARY, headingPath: ["Glossary"] },
  faq: { text: FAQ, headingPath: ["FAQ", "How do I reset my password?"] },
  table: { text: TABLE, headingPath: ["Pricing", "Training prices"] },
  code: { text: CODE, headingPath: ["CLI", "Generate a Dataset"] },
  headingOnly: { text: HEADING_ONLY, headingPath: ["Guide", "Install"] },
  codeOnly: { text: CODE_ONLY, headingPath: [] },
  german: { text: GERMAN, headingPath: ["Handbuch", "Datensicherung"] },
  overlap: { text: OVERLAP, headingPath: ["Guide", "Deploy to Kubernetes"] },
};

const MODES: GenerationMode[] = ["auto", "qa", "instruction", "conversation"];

function request(text: string, mode: GenerationMode, pairsPerChunk = 5, headingPath: string[] = []) {
  return { chunk: { id: "chunk-1", documentId: "doc-1", text, headingPath }, mode, pairsPerChunk };
}

function fixtureRequest(name: string, mode: GenerationMode, pairsPerChunk = 5): GenerationRequest {
  const fixture = FIXTURES[name];
  if (!fixture) throw new Error(`no fixture ${name}`);
  return request(fixture.text, mode, pairsPerChunk, fixture.headingPath);
}

function squash(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The rule the generator lives by: every sentence it answers with is in the chunk, word for word. */
function expectQuotedFromChunk(answer: string, chunkText: string): void {
  const source = squash(chunkText);
  for (const line of answer.split("\n")) {
    for (const sentence of line.split(/(?<=[.!?:。！？])\s+/)) {
      if (sentence.trim()) expect(source, `"${sentence}" is not in the chunk`).toContain(squash(sentence));
    }
  }
}

function userMessages(pair: GeneratedPair): string[] {
  return pair.messages.filter((message) => message.role === "user").map((message) => message.content);
}

function assistantMessages(pair: GeneratedPair): string[] {
  return pair.messages.filter((message) => message.role === "assistant").map((message) => message.content);
}

function questions(result: GenerationResult): string[] {
  return result.pairs.flatMap(userMessages);
}

function expectWellFormed(result: GenerationResult, chunkText: string, pairsPerChunk: number): void {
  expect(result.model).toBe(EXTRACTIVE_MODEL);
  expect(result.promptVersion).toBe(EXTRACTIVE_PROMPT_VERSION);
  expect(result.pairs.length).toBeLessThanOrEqual(pairsPerChunk);
  for (const pair of result.pairs) {
    expect(pair.mode).toBe(result.mode);
    const exchanges = pair.messages.length / 2;
    if (pair.mode === "conversation") {
      expect(exchanges).toBeGreaterThanOrEqual(2);
      expect(exchanges).toBeLessThanOrEqual(4);
    } else {
      expect(exchanges).toBe(1);
    }
    pair.messages.forEach((message, i) => {
      expect(message.role).toBe(i % 2 === 0 ? "user" : "assistant");
      expect(message.content.trim()).not.toBe("");
      expect(message.content).not.toMatch(/^#+\s/m);
    });
    if (pair.mode !== "instruction") {
      for (const question of userMessages(pair)) expect(question).toMatch(/\?$/);
    }
    for (const answer of assistantMessages(pair)) expectQuotedFromChunk(answer, chunkText);
  }
  if (result.mode === "conversation") expect(result.pairs.length).toBeLessThanOrEqual(1);
}

describe("extractPairs", () => {
  it("is checked by a quoting helper that catches an invented sentence", () => {
    expect(() =>
      expectQuotedFromChunk("Backups protect your datasets. Backups run hourly.", HOW_TO),
    ).toThrow();
    expect(() =>
      expectQuotedFromChunk("Backups protect your datasets\nagainst accidental deletion.", HOW_TO),
    ).not.toThrow();
  });

  describe.each(Object.keys(FIXTURES))("on the %s chunk", (name) => {
    it.each(MODES)("in %s mode, builds well-formed pairs quoted from the chunk", (mode) => {
      const req = fixtureRequest(name, mode);
      const result = extractPairs(req);
      expectWellFormed(result, req.chunk.text, req.pairsPerChunk);
      if (mode !== "auto") expect(result.mode).toBe(mode);
    });

    it("gives the same pairs for the same request", () => {
      for (const mode of MODES) {
        expect(extractPairs(fixtureRequest(name, mode))).toEqual(extractPairs(fixtureRequest(name, mode)));
      }
    });

    it("never repeats a question or an answer within a chunk", () => {
      for (const mode of ["qa", "instruction"] as const) {
        const result = extractPairs(fixtureRequest(name, mode, 10));
        const asked = questions(result);
        const answers = result.pairs.flatMap(assistantMessages);
        expect(new Set(asked).size).toBe(asked.length);
        expect(new Set(answers).size).toBe(answers.length);
      }
    });
  });

  describe("a how-to with numbered steps", () => {
    it("is an instruction chunk in auto mode, answered with the steps as a list", () => {
      const result = extractPairs(fixtureRequest("howTo", "auto"));
      expect(result.mode).toBe("instruction");
      const [first] = result.pairs;
      expect(first?.messages).toEqual([
        { role: "user", content: "List the steps to configure backups." },
        {
          role: "assistant",
          content:
            "1. Open the project settings.\n2. Choose a storage bucket under Backups.\n" +
            "3. Set the retention period in days.\n4. Click Save.",
        },
      ]);
    });

    it("asks how to do the heading's task in qa mode, and what the section says for its intro", () => {
      const result = extractPairs(fixtureRequest("howTo", "qa"));
      expect(questions(result)).toEqual([
        "What does the “FineFlow Guide > Configure Backups” section say?",
        "How do I configure backups?",
      ]);
      expect(assistantMessages(result.pairs[0] as GeneratedPair)).toEqual([
        "Backups protect your datasets against accidental deletion. FineFlow writes one archive per project every night.",
      ]);
    });

    it("takes the task from a 'To …,' lead-in when the heading is not one", () => {
      const text =
        "# Backups\n\nTo restore a backup, run these commands:\n\n- Stop the server.\n- Unpack the archive.";
      expect(questions(extractPairs(request(text, "qa", 5, ["Backups"])))).toContain(
        "How do I restore a backup?",
      );
    });

    it("keeps a loose list, with code inside an item, as one list", () => {
      const text = [
        "# Setting Up the Database",
        "",
        "1. Create a database:",
        "",
        "   ```sql",
        "   CREATE DATABASE fineflow;",
        "   ```",
        "",
        "2. Set DATABASE_URL.",
        "3. Restart the server.",
      ].join("\n");
      const result = extractPairs(request(text, "instruction", 5, ["Setting Up the Database"]));
      expect(result.pairs).toHaveLength(1);
      expect(result.pairs[0]?.messages[0]?.content).toBe("List the steps to set up the database.");
      expect(result.pairs[0]?.messages[1]?.content).toBe(text.slice(text.indexOf("1.")));
    });
  });

  describe("a glossary", () => {
    it("turns definitions into 'What is …?' questions answered with the defining sentence", () => {
      const result = extractPairs(fixtureRequest("glossary", "qa"));
      expect(result.mode).toBe("qa");
      expect(result.pairs.map((pair) => pair.messages)).toEqual([
        [
          { role: "user", content: "What is a chunk?" },
          {
            role: "assistant",
            // The next sentence goes with the definition, as it goes on about the term.
            content:
              "A chunk is a piece of a document small enough for one prompt. It always starts with the headings above it.",
          },
        ],
        [
          { role: "user", content: "What does Deduplication mean?" },
          {
            role: "assistant",
            content: "Deduplication means removing chunks that repeat content already kept.",
          },
        ],
        [
          { role: "user", content: "What are Tokens?" },
          { role: "assistant", content: "Tokens are the units a model reads and writes." },
        ],
        [
          { role: "user", content: "What is meant by Pair?" },
          { role: "assistant", content: "Pair: a user message and the assistant's answer to it." },
        ],
        [
          { role: "user", content: "What is meant by Dataset?" },
          { role: "assistant", content: "Dataset: a named set of pairs exported together." },
        ],
      ]);
    });

    it("phrases definitions as instructions in instruction mode", () => {
      expect(questions(extractPairs(fixtureRequest("glossary", "instruction")))).toEqual([
        "Summarize the “Glossary” section.",
        "Explain what Deduplication means.",
        "Explain what Tokens are.",
        "Define Pair.",
        "Define Dataset.",
      ]);
    });

    it("respects pairsPerChunk", () => {
      for (const pairsPerChunk of [0, 1, 2, 3]) {
        expect(extractPairs(fixtureRequest("glossary", "qa", pairsPerChunk)).pairs).toHaveLength(
          pairsPerChunk,
        );
      }
    });

    it("does not take statements or pronouns for definitions", () => {
      const result = extractPairs(fixtureRequest("overlap", "qa"));
      expect(questions(result)).toEqual(["What is Kubernetes?", "What are workers?"]);
      // "There is a limit …" and "The server is running now." define nothing.
      for (const answer of result.pairs.flatMap(assistantMessages)) {
        expect(answer).not.toMatch(/^There is|^The server/);
      }
    });

    it("chains definitions into one conversation of at most four exchanges", () => {
      const result = extractPairs(fixtureRequest("glossary", "conversation"));
      expect(result.pairs).toHaveLength(1);
      expect(userMessages(result.pairs[0] as GeneratedPair)).toEqual([
        "What does the “Glossary” section say?",
        "And what does Deduplication mean?",
        "And what are Tokens?",
        "And what is meant by Pair?",
      ]);
    });
  });

  describe("an FAQ", () => {
    it("asks the document's own questions, answered without the 'A:' label", () => {
      const result = extractPairs(fixtureRequest("faq", "auto"));
      expect(result.mode).toBe("qa");
      expect(result.pairs.map((pair) => pair.messages)).toEqual([
        [
          { role: "user", content: "How do I reset my password?" },
          {
            role: "assistant",
            content:
              'Open the sign-in page and choose "Forgot password". A reset link arrives by email within five minutes.',
          },
        ],
        [
          { role: "user", content: "Can I pay by invoice?" },
          { role: "assistant", content: "Yes. Invoices are available on the Team plan and above." },
        ],
      ]);
    });

    it("follows up with 'And …?' in a conversation", () => {
      const [pair] = extractPairs(fixtureRequest("faq", "conversation")).pairs;
      expect(pair && userMessages(pair)).toEqual([
        "How do I reset my password?",
        "And can I pay by invoice?",
      ]);
    });
  });

  describe("a table", () => {
    it("asks for each row's values, answered with the header and that row", () => {
      const result = extractPairs(fixtureRequest("table", "qa"));
      expect(result.pairs.map((pair) => pair.messages)).toEqual([
        [
          { role: "user", content: "What are the price per 1M tokens and context for gpt-4o-mini?" },
          {
            role: "assistant",
            content:
              "| Model | Price per 1M tokens | Context |\n| --- | --- | --- |\n| gpt-4o-mini | $3.00 | 128k |",
          },
        ],
        [
          { role: "user", content: "What are the price per 1M tokens and context for gpt-4.1?" },
          {
            role: "assistant",
            content:
              "| Model | Price per 1M tokens | Context |\n| --- | --- | --- |\n| gpt-4.1 | $25.00 | 1M |",
          },
        ],
      ]);
    });

    it("moves on to the next row with 'What about …?' in a conversation", () => {
      const [pair] = extractPairs(fixtureRequest("table", "conversation")).pairs;
      expect(pair && userMessages(pair)).toEqual([
        "What are the price per 1M tokens and context for gpt-4o-mini?",
        "What about gpt-4.1?",
      ]);
    });

    it("skips a table whose questions would not read naturally", () => {
      const wide = [
        "| Model | Price | Context | Output | Region |",
        "| --- | --- | --- | --- | --- |",
        "| gpt-4.1 | $25.00 | 1M | 32k | US |",
      ].join("\n");
      const numericKeys = "| # | Step |\n| --- | --- |\n| 1 | Install |\n| 2 | Run |";
      expect(extractPairs(request(wide, "qa")).pairs).toEqual([]);
      expect(extractPairs(request(numericKeys, "qa")).pairs).toEqual([]);
    });
  });

  describe("a code example", () => {
    it("shows the code with the sentence that announces it", () => {
      const result = extractPairs(fixtureRequest("code", "instruction"));
      expect(result.pairs.map((pair) => pair.messages)).toEqual([
        [
          { role: "user", content: "Show an example of how to generate a dataset." },
          {
            role: "assistant",
            content:
              "Run the generate command with the project name:\n\n```bash\nfineflow generate --project docs --mode qa\n```",
          },
        ],
      ]);
    });

    it("gives nothing for code with no heading or text to say what it is", () => {
      for (const mode of MODES) expect(extractPairs(fixtureRequest("codeOnly", mode)).pairs).toEqual([]);
    });

    it("needs two facts for a conversation, so makes none from a single example", () => {
      const result = extractPairs(fixtureRequest("code", "conversation"));
      expect(result).toMatchObject({ mode: "conversation", pairs: [] });
    });
  });

  describe("chunks with little to use", () => {
    it("gives nothing for a chunk that is only headings, in every mode", () => {
      for (const mode of MODES) expect(extractPairs(fixtureRequest("headingOnly", mode)).pairs).toEqual([]);
      expect(extractPairs(fixtureRequest("headingOnly", "auto")).mode).toBe("qa");
    });

    it("skips the broken sentence a chunk opens or ends with", () => {
      const result = extractPairs(fixtureRequest("overlap", "instruction"));
      const answers = result.pairs.flatMap(assistantMessages);
      expect(answers.length).toBeGreaterThan(0);
      for (const answer of answers) {
        expect(answer).not.toContain("the cluster before you start");
        expect(answer).not.toContain("The worker count is configurable");
      }
    });
  });

  describe("non-English text", () => {
    it("copies German sentences under an English question", () => {
      const result = extractPairs(fixtureRequest("german", "qa"));
      expect(result.pairs.map((pair) => pair.messages)).toEqual([
        [
          { role: "user", content: "What does the “Handbuch > Datensicherung” section say?" },
          {
            role: "assistant",
            content:
              "Die Datensicherung läuft jede Nacht um zwei Uhr. Sie speichert alle Projekte in einem Archiv. " +
              "Ältere Archive werden nach 30 Tagen gelöscht.",
          },
        ],
      ]);
    });

    it("keeps CJK sentences joined as written", () => {
      const text = "# 指南\n\n数据集是训练样本的集合。每个样本包含一个问题和一个答案。";
      const [pair] = extractPairs(request(text, "qa", 3, ["指南"])).pairs;
      expect(pair?.messages[1]?.content).toBe("数据集是训练样本的集合。每个样本包含一个问题和一个答案。");
    });
  });

  describe("headings", () => {
    it("names a section by its heading path, including levels the chunk's breadcrumb left out", () => {
      const text = "### Linux\n\nFineFlow runs on any recent Linux distribution.";
      const result = extractPairs(request(text, "qa", 3, ["Guide", "Install", "Linux"]));
      expect(questions(result)).toEqual(["What does the “Install > Linux” section say?"]);
    });

    it("reads gerund and 'How to' headings as tasks, keeping names capitalised", () => {
      const body = "FineFlow runs on Linux and macOS. You need Node 20 or later.";
      for (const heading of ["Installing on Linux", "How to install on Linux", "Install on Linux"]) {
        const result = extractPairs(request(`# ${heading}\n\n${body}`, "qa", 3, [heading]));
        expect(questions(result)).toEqual(["How do I install on Linux?"]);
      }
    });

    it("does not read a noun phrase that starts like a verb as a task", () => {
      const text = "# Upgrade Notes\n\nVersion 2 drops support for Node 18.";
      expect(questions(extractPairs(request(text, "qa", 3, ["Upgrade Notes"])))).toEqual([
        "What does the “Upgrade Notes” section say?",
      ]);
    });
  });

  describe("the chunk before in the document", () => {
    const SNAPSHOTS = `# Backups
## Snapshots

${[
  "Snapshots keep a project's data safe from mistakes and failed disks.",
  "A snapshot is a full copy of the database at one moment.",
  "Snapshots are taken every night at two in the morning.",
  "A retention policy is the number of days a snapshot is kept before it is deleted.",
  "Restoring replaces the current database with the chosen snapshot.",
  "An archive is a compressed snapshot stored outside the server.",
  "Archives are uploaded to the storage bucket named in the project settings.",
  "A checksum is a short value computed from an archive to detect damage.",
  "Checksums are compared before every restore, and a damaged archive is refused.",
].join("\n\n")}`;
    const chunks = chunkBlocks(parseMarkdown(SNAPSHOTS), { targetTokens: 64, overlapTokens: 24 });

    /** Each chunk's pairs, generated as the service does: with the chunk before it. */
    function generated(withPrevious: boolean, pairsPerChunk = 10): GeneratedPair[] {
      return chunks.flatMap((chunk, i) => {
        const before = chunks[i - 1];
        const previous =
          withPrevious && before ? { text: before.text, headingPath: before.headingPath } : undefined;
        return extractPairs({
          ...request(chunk.text, "qa", pairsPerChunk, chunk.headingPath),
          chunk: { id: `c${i}`, documentId: "d", text: chunk.text, headingPath: chunk.headingPath, previous },
        }).pairs;
      });
    }

    it("asks a long section's overview once, and makes no pair from the overlap that repeats one", () => {
      // The fixture is one section cut into chunks that overlap: without the chunk before, the overview is
      // asked of every chunk and a definition in the overlap is made twice.
      expect(chunks.length).toBeGreaterThan(2);
      expect(chunks.every((chunk) => chunk.headingPath.join(">") === "Backups>Snapshots")).toBe(true);
      const count = (pairs: GeneratedPair[]) => {
        const all = pairs.flatMap(userMessages);
        return { all: all.length, unique: new Set(all).size };
      };
      const blind = count(generated(false));
      expect(blind.unique).toBeLessThan(blind.all);

      const pairs = generated(true);
      const asked = pairs.flatMap(userMessages);
      expect(new Set(asked).size).toBe(asked.length);
      expect(asked.filter((q) => q === "What does the “Backups > Snapshots” section say?")).toHaveLength(1);
      const answers = pairs.flatMap(assistantMessages);
      expect(new Set(answers).size).toBe(answers.length);
      // Nothing the section defines is lost: each definition is asked of one chunk.
      for (const term of ["a snapshot", "a retention policy", "an archive", "a checksum"]) {
        expect(asked).toContain(`What is ${term}?`);
      }
    });

    it("makes a pair of a fact the chunk before holds but made no pair of", () => {
      // One pair a chunk: the first chunk's retention policy, in its text but not in its pair, is the second's.
      expect(generated(true, 1).flatMap(userMessages)).toEqual([
        "What is a snapshot?",
        "What is a retention policy?",
        "What is a checksum?",
      ]);
    });
  });

  it("does not take a pronoun or quantifier for a defined term", () => {
    const text =
      "# Options\n\nBoth are `undefined` unless specified on the command line. Most are optional flags.";
    expect(questions(extractPairs(request(text, "qa", 5, ["Options"])))).toEqual([
      "What does the “Options” section say?",
    ]);
  });

  it("works on chunks made by the real parser and chunker", () => {
    const markdown = [HOW_TO, GLOSSARY, FAQ, TABLE, CODE, GERMAN].join("\n\n");
    const chunks = chunkBlocks(parseMarkdown(markdown), { targetTokens: 128, overlapTokens: 16 });
    let total = 0;
    for (const chunk of chunks) {
      for (const mode of MODES) {
        const req = request(chunk.text, mode, 3, chunk.headingPath);
        const result = extractPairs(req);
        expectWellFormed(result, chunk.text, 3);
        total += result.pairs.length;
      }
    }
    expect(total).toBeGreaterThan(chunks.length);
  });
});

describe("extractiveGenerator", () => {
  it("is the extractive port, resolving to what extractPairs returns", async () => {
    const req = fixtureRequest("howTo", "auto");
    expect(extractiveGenerator.name).toBe("extractive");
    await expect(extractiveGenerator.generate(req)).resolves.toEqual(extractPairs(req));
  });
});
