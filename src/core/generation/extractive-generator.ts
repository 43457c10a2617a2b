import type {
  GeneratedPair,
  GenerationRequest,
  GenerationResult,
  PairGenerator,
  PairMessage,
  PairMode,
  SourceChunk,
} from "./types.js";

/**
 * The offline, deterministic generator: the default when no LLM is configured, and what every test gets.
 *
 * It never invents a fact. Every assistant message is text copied from the chunk — whole sentences, list
 * blocks, code blocks, table rows — only trimmed; what varies is the user side, templated from the chunk's
 * own headings and terms. So it produces fewer pairs than an LLM would, and none where the chunk offers
 * nothing it can quote with a question that reads naturally.
 *
 * The chunk is read as the chunker renders it: heading lines, then blocks apart by blank lines (paragraphs,
 * `- ` / `1. ` lists, fenced code, pipe tables). From the blocks come "facts" — a question, an instruction
 * and the quoted answer — and each mode picks among them.
 */

export const EXTRACTIVE_MODEL = "fineflow-extractive";
export const EXTRACTIVE_PROMPT_VERSION = "extractive-v1";

export function extractPairs(request: GenerationRequest): GenerationResult {
  const facts = factsNotSaid(request);
  const mode = request.mode === "auto" ? chooseMode(facts) : request.mode;
  const limit = Number.isFinite(request.pairsPerChunk) ? Math.max(0, Math.floor(request.pairsPerChunk)) : 0;
  const pairs = mode === "conversation" ? conversationPairs(facts, limit) : singlePairs(facts, mode, limit);
  return { pairs, mode, model: EXTRACTIVE_MODEL, promptVersion: EXTRACTIVE_PROMPT_VERSION };
}

export const extractiveGenerator: PairGenerator = {
  name: "extractive",
  generate: async (request) => extractPairs(request),
};

// ---------------------------------------------------------------------------------------------------------
// Facts

type FactKind = "faq" | "definition" | "steps" | "overview" | "table" | "code";

interface Fact {
  kind: FactKind;
  question: string;
  instruction: string;
  /** Copied from the chunk. */
  answer: string;
  /** In a conversation, a fact right after one of the same group (a row of the same table) is asked with
   * the shorter `followUp` ("What about gpt-4.1?"). */
  group?: string;
  followUp?: string;
}

/** What a section's heading lets us ask about it. */
interface Topic {
  /** The heading path's last two levels, quoted: “Install > Linux”. */
  label: string;
  /** A verb phrase when the heading is a task ("Configure backups" → "configure backups"). */
  task?: string;
  /** The heading itself when it already is a question (an FAQ entry). */
  question?: string;
  /** Headings that name a glossary, where "Term: a definition" list items are definitions. */
  isGlossary: boolean;
}

interface SectionContext {
  section: Section;
  topic: Topic | undefined;
  vocabulary: Vocabulary;
  id: number;
  /** The section began in the chunk before, which asked for its overview: this chunk holds none of it. */
  continued: boolean;
}

/**
 * The chunk's facts, knowing the chunk before it in the document. A section that began there gets no
 * overview here: asked of every chunk of a long section, "What does the section say?" got a different
 * answer each time, none its opening. And a fact whose question or answer a pair of the chunk before says
 * (one in their overlap, a section's code example asked there too) would be made twice, or get a second
 * answer. That chunk is taken as it is generated
 * (same mode and number of pairs; its own chunk before not looked at): a fact it holds but made no pair of
 * is this chunk's to make.
 */
function factsNotSaid({ chunk, mode, pairsPerChunk }: GenerationRequest): Fact[] {
  if (!chunk.previous) return extractFacts(chunk);
  const previous = { ...chunk, ...chunk.previous, previous: undefined };
  const facts = extractFacts(chunk, parseSections(previous).at(-1)?.path);
  const before = extractPairs({ chunk: previous, mode, pairsPerChunk });
  // A conversation asks its later questions as "And what …?".
  const said = new Set(
    before.pairs.flatMap((pair) => pair.messages.map((m) => normalize(m.content).replace(/^and /, ""))),
  );
  return facts.filter((fact) => !said.has(normalize(fact.question)) && !said.has(normalize(fact.answer)));
}

/** `openPath`: the heading path of the section the chunk before ends in, which this chunk may go on with. */
function extractFacts(chunk: Pick<SourceChunk, "text" | "headingPath">, openPath?: string[]): Fact[] {
  const sections = parseSections(chunk);
  const vocabulary = vocabularyOf(sections);
  return sections.flatMap((section, id) => {
    const topic = topicOf(section.path, vocabulary);
    const continued = id === 0 && openPath?.join("\n") === section.path.join("\n");
    return sectionFacts({ section, topic, vocabulary, id, continued });
  });
}

function sectionFacts(ctx: SectionContext): Fact[] {
  const overview = ctx.continued ? undefined : overviewFact(ctx);
  const facts = ctx.section.blocks.flatMap((block, index) => blockFacts(ctx, block, index));
  return overview ? [overview, ...facts] : facts;
}

function blockFacts(ctx: SectionContext, block: TextBlock, index: number): Fact[] {
  switch (block.kind) {
    case "paragraph":
      return [...faqFacts(ctx, index), ...sentenceDefinitions(block.text, ctx.vocabulary)];
    case "list":
      return [...stepsFacts(ctx, index), ...listDefinitions(block, ctx)];
    case "code":
      return codeFacts(ctx, index);
    case "table":
      return tableFacts(ctx, block, index);
    default:
      return [];
  }
}

// --- Heading → question about the section's opening text ---

function overviewFact(ctx: SectionContext): Fact | undefined {
  const { topic, section } = ctx;
  const first = section.blocks[0];
  if (!topic || !first || faqQuestion(first)) return undefined;
  // Steps are the steps fact's answer; the overview only quotes what comes before them.
  const steps = stepListIndexes(ctx);
  if (steps.includes(0)) return undefined;
  const answer = openingText(section.blocks, 0, topic.question ? 5 : 3, (next) => !steps.includes(next));
  if (!answer) return undefined;
  if (topic.question) return { kind: "faq", question: topic.question, instruction: topic.question, answer };
  if (topic.task && steps.length === 0) {
    return {
      kind: "overview",
      question: `How do I ${topic.task}?`,
      instruction: `Explain how to ${topic.task}.`,
      answer,
    };
  }
  return {
    kind: "overview",
    question: `What does the ${topic.label} section say?`,
    instruction: `Summarize the ${topic.label} section.`,
    answer,
  };
}

/**
 * The first sentences of the block at `index` (a list whole), stopping early on long text. A sentence that
 * announces a list or code ("Run:") is kept only together with what it announces, if `mayAppend` it.
 */
function openingText(
  blocks: TextBlock[],
  index: number,
  maxSentences: number,
  mayAppend: (index: number) => boolean = () => true,
): string | undefined {
  const block = blocks[index];
  if (block?.kind === "list") return block.text;
  if (block?.kind !== "paragraph") return undefined;
  const all = splitSentences(block.text);
  const taken = leadingSentences(all, maxSentences);
  const last = taken.at(-1);
  if (!last?.endsWith(":")) return taken.length > 0 ? joinSentences(taken) : undefined;
  const next = blocks[index + 1];
  if (last === all.at(-1) && (next?.kind === "list" || next?.kind === "code") && mayAppend(index + 1)) {
    return `${joinSentences(taken)}\n\n${next.text}`;
  }
  return taken.length > 1 ? joinSentences(taken.slice(0, -1)) : undefined;
}

const MAX_OPENING_WORDS = 80;

/** Whole sentences from the first that starts like one (a chunk may open mid-sentence, after an overlap). */
function leadingSentences(sentences: string[], max: number): string[] {
  const start = sentences.findIndex(startsLikeSentence);
  if (start < 0) return [];
  const taken: string[] = [];
  let words = 0;
  for (const sentence of sentences.slice(start, start + max)) {
    words += wordCount(sentence);
    if (taken.length > 0 && words > MAX_OPENING_WORDS) break;
    taken.push(sentence);
  }
  while (taken.length > 0 && !endsLikeSentence(taken.at(-1) as string)) taken.pop();
  return taken;
}

// --- FAQ: a question paragraph followed by its answer ---

const QA_IN_ONE_PARAGRAPH = /^(?:Q|Question)\s*[:.]\s*(.+?\?)\s+(?:A|Answer)\s*[:.]\s*(\S[\s\S]*)$/;
const QUESTION_LABEL = /^(?:Q|Question)\s*[:.]\s*/;
const ANSWER_LABEL = /^(?:A|Answer)\s*[:.]\s*/;

function faqFacts(ctx: SectionContext, index: number): Fact[] {
  const block = ctx.section.blocks[index] as TextBlock;
  const inline = QA_IN_ONE_PARAGRAPH.exec(stripEmphasis(block.text));
  if (inline?.[1] && inline[2]) return [faqFact(inline[1], inline[2].trim())];
  const question = faqQuestion(block);
  if (!question) return [];
  const next = ctx.section.blocks[index + 1];
  if (!next || (next.kind !== "paragraph" && next.kind !== "list")) return [];
  const blocks = [...ctx.section.blocks];
  blocks[index + 1] = { ...next, text: stripEmphasis(next.text).replace(ANSWER_LABEL, "") };
  const answer = openingText(blocks, index + 1, 6);
  return answer ? [faqFact(question, answer)] : [];
}

function faqFact(question: string, answer: string): Fact {
  return { kind: "faq", question, instruction: question, answer };
}

/** A one-line paragraph that is a question, e.g. "Q: Can I …?" or "**How do I …?**". */
function faqQuestion(block: TextBlock): string | undefined {
  if (block.kind !== "paragraph" || block.text.includes("\n")) return undefined;
  const text = stripEmphasis(block.text).replace(QUESTION_LABEL, "").trim();
  const words = wordCount(text);
  if (!text.endsWith("?") || words < 3 || words > 30 || splitSentences(text).length > 1) return undefined;
  return startsLikeSentence(text) ? text : undefined;
}

function stripEmphasis(text: string): string {
  return text.replace(/(\*\*|__)(.+?)\1/g, "$2").trim();
}

// --- Definitions ---

/** "X is a …", "X are …", "X means …": the term is at most five words, before the first verb. */
const DEFINITION =
  /^((?:(?:A|An|The)\s+)?[^\s,;:()]+(?:\s+[^\s,;:()]+){0,4}?)\s+(is defined as|is|are|means|refers to|stands for)\s+(\S.*)$/su;

type Copula = "is defined as" | "is" | "are" | "means" | "refers to" | "stands for";

const NOT_A_TERM = new Set(
  (
    "it this that these those there here they we you he she i what which who whom whose each every all " +
    "some any such one our your its their his her my if when while because where how why not also only " +
    "then so but and or both either neither none many most few several other others another"
  ).split(" "),
);
/** After "are", words that make the sentence a statement about the term rather than a definition. */
const NOT_A_DEFINITION_AFTER_ARE = new Set(
  "not also only now still always never usually often sometimes available optional required supported".split(
    " ",
  ),
);
const DETERMINER = /^(?:a|an|the|one|any|each)\s/i;
/** A next sentence that goes on about the term ("It …") belongs with its definition. */
const ANAPHORA = /^(?:It|They|This|These|Its|Their|Such)\b/;

function sentenceDefinitions(text: string, vocabulary: Vocabulary): Fact[] {
  const sentences = splitSentences(text);
  const facts: Fact[] = [];
  sentences.forEach((sentence, i) => {
    const definition = parseDefinition(sentence, vocabulary);
    if (!definition) return;
    const next = sentences[i + 1];
    const answer = next && ANAPHORA.test(next) && endsLikeSentence(next) ? `${sentence} ${next}` : sentence;
    facts.push(definitionFact(definition.term, definition.copula, answer));
  });
  return facts;
}

function parseDefinition(
  sentence: string,
  vocabulary: Vocabulary,
): { term: string; copula: Copula } | undefined {
  const whole = startsLikeSentence(sentence) && endsLikeSentence(sentence) && wordCount(sentence) >= 5;
  const [, rawTerm, copula, rest] = (whole && DEFINITION.exec(sentence)) || [];
  if (!rawTerm || !copula || !rest || !isTerm(rawTerm)) return undefined;
  if (copula === "is" && !DETERMINER.test(rest)) return undefined;
  if (copula === "are" && !definesAfterAre(rest)) return undefined;
  return { term: termCase(rawTerm, vocabulary), copula: copula as Copula };
}

function isTerm(term: string): boolean {
  const words = term.toLowerCase().split(/\s+/);
  if (words.some((word) => NOT_A_TERM.has(word))) return false;
  // "Running the tests is a good idea" is advice, not a definition of "running the tests".
  return !(words.length > 1 && words[0]?.endsWith("ing"));
}

function definesAfterAre(rest: string): boolean {
  const next = rest.split(/\s+/)[0]?.toLowerCase() ?? "";
  return !NOT_A_DEFINITION_AFTER_ARE.has(next) && !/(?:ed|en)$/.test(next);
}

const DEFINITION_PHRASES: Record<
  Copula,
  { question: (term: string) => string; instruction: (term: string) => string }
> = {
  "is defined as": { question: (t) => `What is ${t}?`, instruction: (t) => `Explain what ${t} is.` },
  is: { question: (t) => `What is ${t}?`, instruction: (t) => `Explain what ${t} is.` },
  are: { question: (t) => `What are ${t}?`, instruction: (t) => `Explain what ${t} are.` },
  means: { question: (t) => `What does ${t} mean?`, instruction: (t) => `Explain what ${t} means.` },
  "refers to": {
    question: (t) => `What does ${t} refer to?`,
    instruction: (t) => `Explain what ${t} refers to.`,
  },
  "stands for": {
    question: (t) => `What does ${t} stand for?`,
    instruction: (t) => `Explain what ${t} stands for.`,
  },
};

function definitionFact(term: string, copula: Copula, answer: string): Fact {
  const phrases = DEFINITION_PHRASES[copula];
  return {
    kind: "definition",
    question: phrases.question(term),
    instruction: phrases.instruction(term),
    answer,
  };
}

/** "- Term: a definition" / "- Term — the …" items of a glossary. */
const GLOSSARY_ITEM =
  /^(?:\*\*|__)?(`[^`]+`|[^:–—*_`\n]{1,60}?)(?:\*\*|__)?\s*(?::|\s[–—-]\s)\s*(\S[\s\S]*)$/u;
const GLOSSARY_HEADING = /\b(?:glossary|terms|terminology|definitions|vocabulary|glossar|begriffe)\b/i;

function listDefinitions(block: TextBlock, ctx: SectionContext): Fact[] {
  const items = listItems(block.text);
  if (items.ordered) return [];
  const entries = items.texts.map((text) => glossaryEntry(text, ctx));
  const found = entries.filter((entry) => entry !== undefined);
  if (found.length >= 2 && found.length * 2 >= entries.length) {
    return found.map(({ term, text }) => ({
      kind: "definition",
      question: `What is meant by ${term}?`,
      instruction: `Define ${term}.`,
      answer: text,
    }));
  }
  // Items that are sentences of their own ("- A chunk is …") are read like a paragraph's.
  return items.texts.flatMap((text) => sentenceDefinitions(text, ctx.vocabulary));
}

function glossaryEntry(text: string, ctx: SectionContext): { term: string; text: string } | undefined {
  const [, rawTerm, definition] = GLOSSARY_ITEM.exec(text) ?? [];
  if (!rawTerm || !definition || wordCount(rawTerm) > 5 || !/\p{L}/u.test(rawTerm)) return undefined;
  // Without a glossary heading, "Windows: run the installer" is an instruction, not a definition.
  if (!ctx.topic?.isGlossary && !DETERMINER.test(definition)) return undefined;
  return { term: termCase(rawTerm.trim(), ctx.vocabulary), text };
}

// --- Steps ---

const TO_DO = /^To\s+(\p{Ll}[^,:]{2,80}?)\s*[,:]/u;

function stepsFacts(ctx: SectionContext, index: number): Fact[] {
  const block = ctx.section.blocks[index] as TextBlock;
  const items = listItems(block.text);
  if (items.texts.length < 2) return [];
  const task = ctx.topic?.task ?? leadInTask(ctx.section.blocks[index - 1]);
  if (task) {
    return [
      {
        kind: "steps",
        question: `How do I ${task}?`,
        instruction: `List the steps to ${task}.`,
        answer: block.text,
      },
    ];
  }
  if (!items.ordered || !ctx.topic || ctx.topic.question) return [];
  const label = ctx.topic.label;
  return [
    {
      kind: "steps",
      question: `What are the steps in the ${label} section?`,
      instruction: `List the steps in the ${label} section.`,
      answer: block.text,
    },
  ];
}

function stepListIndexes(ctx: SectionContext): number[] {
  return ctx.section.blocks.flatMap((block, index) =>
    block.kind === "list" && stepsFacts(ctx, index).length > 0 ? [index] : [],
  );
}

/** "To configure backups, follow these steps:" → "configure backups". */
function leadInTask(block: TextBlock | undefined): string | undefined {
  if (block?.kind !== "paragraph") return undefined;
  const last = splitSentences(block.text).at(-1) ?? "";
  return TO_DO.exec(last)?.[1];
}

// --- Code ---

function codeFacts(ctx: SectionContext, index: number): Fact[] {
  const { topic, section } = ctx;
  const block = section.blocks[index] as TextBlock;
  // Code with no heading to say what it shows would need an invented question.
  if (!topic || topic.question || !hasCodeBody(block.text)) return [];
  const lead = leadInSentence(section.blocks[index - 1]);
  const answer = lead ? `${lead}\n\n${block.text}` : block.text;
  if (topic.task) {
    return [
      {
        kind: "code",
        question: `Can you show an example of how to ${topic.task}?`,
        instruction: `Show an example of how to ${topic.task}.`,
        answer,
      },
    ];
  }
  return [
    {
      kind: "code",
      question: `What does the code example in the ${topic.label} section look like?`,
      instruction: `Show the code example from the ${topic.label} section.`,
      answer,
    },
  ];
}

function hasCodeBody(code: string): boolean {
  return code
    .split("\n")
    .filter((line) => !FENCE.test(line))
    .some((line) => line.trim() !== "");
}

/** The sentence right before a code block when it announces it ("Run the command:"). */
function leadInSentence(block: TextBlock | undefined): string | undefined {
  if (block?.kind !== "paragraph") return undefined;
  const last = splitSentences(block.text).at(-1);
  return last?.endsWith(":") && startsLikeSentence(last) ? last : undefined;
}

// --- Tables: one lookup question per row ---

const MAX_TABLE_COLUMNS = 4;
const MAX_HEADER_WORDS = 4;
const MAX_KEY_WORDS = 6;

function tableFacts(ctx: SectionContext, block: TextBlock, index: number): Fact[] {
  const [headerLine, delimiter, ...rows] = block.text.split("\n").map((line) => line.trim());
  if (!headerLine || !delimiter || !TABLE_DELIMITER.test(delimiter)) return [];
  const headers = tableCells(headerLine);
  if (!readableHeaders(headers)) return [];
  const valueNames = joinNames(headers.slice(1).map(lowerTitleWords));
  const verb = headers.length > 2 ? "are" : "is";
  const group = `table-${ctx.id}-${index}`;
  return rows.flatMap((row) => {
    const cells = tableCells(row);
    const key = cells[0] ?? "";
    if (!isRowKey(key) || cells.slice(1).every((cell) => cell === "")) return [];
    return [
      {
        kind: "table" as const,
        question: `What ${verb} the ${valueNames} for ${key}?`,
        instruction: `Give the ${valueNames} for ${key}.`,
        // The header rows keep the row readable; every line is copied from the table.
        answer: `${headerLine}\n${delimiter}\n${row}`,
        group,
        followUp: `What about ${key}?`,
      },
    ];
  });
}

function readableHeaders(headers: string[]): boolean {
  if (headers.length < 2 || headers.length > MAX_TABLE_COLUMNS) return false;
  return headers.every((header) => /\p{L}/u.test(header) && wordCount(header) <= MAX_HEADER_WORDS);
}

function isRowKey(key: string): boolean {
  return /\p{L}/u.test(key) && wordCount(key) <= MAX_KEY_WORDS;
}

function tableCells(line: string): string[] {
  return line
    .replace(/^\|/, "")
    .replace(/(?<!\\)\|$/, "")
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

function joinNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** Column names are usually title-cased ("Price"); inside a question they read lowercased. */
function lowerTitleWords(text: string): string {
  return text.replace(/[\p{L}\p{N}'’-]+/gu, (word) => (isTitleWord(word) ? word.toLowerCase() : word));
}

// ---------------------------------------------------------------------------------------------------------
// Choosing and assembling pairs

/** Per mode, the kinds of fact that suit it best first; pairs are taken round-robin across kinds. */
const KIND_ORDER: Record<Exclude<PairMode, "conversation">, FactKind[]> = {
  qa: ["faq", "definition", "overview", "steps", "table", "code"],
  instruction: ["steps", "code", "overview", "definition", "faq", "table"],
};

const MAX_CONVERSATION_EXCHANGES = 4;

function chooseMode(facts: Fact[]): PairMode {
  return facts.some((fact) => fact.kind === "steps") ? "instruction" : "qa";
}

function singlePairs(facts: Fact[], mode: "qa" | "instruction", limit: number): GeneratedPair[] {
  return distinct(roundRobin(facts, KIND_ORDER[mode]))
    .slice(0, limit)
    .map((fact) => ({
      mode,
      messages: exchange(mode === "qa" ? fact.question : fact.instruction, fact.answer),
    }));
}

/** One dialogue walking through the chunk's facts in reading order; a single fact makes no dialogue. */
function conversationPairs(facts: Fact[], limit: number): GeneratedPair[] {
  const chosen = distinct(facts).slice(0, MAX_CONVERSATION_EXCHANGES);
  if (limit < 1 || chosen.length < 2) return [];
  const messages = chosen.flatMap((fact, i) => exchange(turnQuestion(fact, chosen[i - 1]), fact.answer));
  return [{ mode: "conversation", messages }];
}

const ENGLISH_QUESTION_WORD = /^(?:What|How|Which|Who|Where|When|Why|Can|Could|Is|Are|Do|Does|Should)\b/;

function turnQuestion(fact: Fact, previous: Fact | undefined): string {
  if (!previous) return fact.question;
  if (fact.followUp && fact.group !== undefined && fact.group === previous.group) return fact.followUp;
  if (!ENGLISH_QUESTION_WORD.test(fact.question)) return fact.question;
  return `And ${fact.question.charAt(0).toLowerCase()}${fact.question.slice(1)}`;
}

function exchange(user: string, assistant: string): PairMessage[] {
  return [
    { role: "user", content: user },
    { role: "assistant", content: assistant },
  ];
}

function roundRobin(facts: Fact[], order: FactKind[]): Fact[] {
  const queues = order.map((kind) => facts.filter((fact) => fact.kind === kind));
  const ranked: Fact[] = [];
  for (let round = 0; queues.some((queue) => queue.length > round); round++) {
    for (const queue of queues) {
      const fact = queue[round];
      if (fact) ranked.push(fact);
    }
  }
  return ranked;
}

/** Drops a fact whose question was already asked, or whose answer repeats (or holds) one already given. */
function distinct(facts: Fact[]): Fact[] {
  const kept: Fact[] = [];
  const questions = new Set<string>();
  const answers: string[] = [];
  for (const fact of facts) {
    const question = normalize(fact.question);
    const answer = normalize(fact.answer);
    if (questions.has(question) || answers.some((seen) => seen.includes(answer) || answer.includes(seen))) {
      continue;
    }
    questions.add(question);
    answers.push(answer);
    kept.push(fact);
  }
  return kept;
}

function normalize(text: string): string {
  return text.replace(/\s+/g, " ").trim().toLowerCase();
}

// ---------------------------------------------------------------------------------------------------------
// Reading the chunk

type BlockKind = "paragraph" | "list" | "code" | "table" | "quote";

interface TextBlock {
  kind: BlockKind;
  text: string;
}

interface Section {
  /** Heading texts from the top level down. */
  path: string[];
  blocks: TextBlock[];
}

interface Heading {
  level: number;
  text: string;
}

type Token = ({ kind: "heading" } & Heading) | TextBlock;

const HEADING_LINE = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
const FENCE = /^\s*(`{3,}|~{3,})/;
const LIST_ITEM = /^\s*(?:[-*+]|\d{1,3}[.)])\s+/;
const TABLE_DELIMITER = /^\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?$/;

function parseSections(chunk: Pick<SourceChunk, "text" | "headingPath">): Section[] {
  const sections: Section[] = [];
  const stack: Heading[] = [];
  let current: Section | undefined;
  let anchored = false;
  for (const token of tokenize(chunk.text)) {
    if (token.kind === "heading") {
      if (!anchored) stack.push(...ancestorsOf(token, chunk.headingPath));
      anchored = true;
      while ((stack.at(-1)?.level ?? 0) >= token.level) stack.pop();
      stack.push(token);
      current = undefined;
      continue;
    }
    if (!current) {
      current = {
        path: anchored ? stack.map((heading) => heading.text) : [...chunk.headingPath],
        blocks: [],
      };
      sections.push(current);
    }
    current.blocks.push(token);
  }
  return sections;
}

/**
 * A chunk with deep headings may open with only the nearest ones; the chunk's heading path holds those
 * above, put at the levels right above the first heading shown.
 */
function ancestorsOf(first: Heading, headingPath: string[]): Heading[] {
  const at = headingPath.lastIndexOf(first.text);
  if (at <= 0) return [];
  return headingPath.slice(0, at).map((text, i) => ({ level: first.level - at + i, text }));
}

function tokenize(text: string): Token[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const tokens: Token[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] as string;
    const heading = HEADING_LINE.exec(line);
    if (!line.trim()) {
      index++;
    } else if (heading?.[1] && heading[2]) {
      tokens.push({ kind: "heading", level: heading[1].length, text: heading[2] });
      index++;
    } else {
      const end = FENCE.test(line) ? fenceEnd(lines, index) : blockEnd(lines, index);
      tokens.push({ kind: lineKind(line), text: lines.slice(index, end).join("\n").trimEnd() });
      index = end;
    }
  }
  return tokens;
}

function lineKind(line: string): BlockKind {
  if (FENCE.test(line)) return "code";
  if (LIST_ITEM.test(line)) return "list";
  if (line.trimStart().startsWith("|")) return "table";
  return line.trimStart().startsWith(">") ? "quote" : "paragraph";
}

/** The index after the closing fence (or the end of the text, for a fence a chunk boundary left open). */
function fenceEnd(lines: string[], start: number): number {
  const fence = FENCE.exec(lines[start] as string)?.[1] as string;
  for (let i = start + 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line.startsWith(fence) && [...line].every((char) => char === fence[0])) return i + 1;
  }
  return lines.length;
}

function blockEnd(lines: string[], start: number): number {
  const first = lines[start] as string;
  let end = start + 1;
  while (end < lines.length && continuesBlock(first, lines, end)) end++;
  return end;
}

function continuesBlock(first: string, lines: string[], index: number): boolean {
  const kind = lineKind(first);
  const line = lines[index] as string;
  if (!line.trim()) {
    // A loose list (an item of several paragraphs, or with code) has blank lines inside it; Markdown reads
    // items of the same kind after a blank line as the same list too.
    const next = lines.slice(index + 1).find((candidate) => candidate.trim() !== "");
    if (kind !== "list" || next === undefined) return false;
    return /^\s+\S/.test(next) || (LIST_ITEM.test(next) && isOrderedItem(next) === isOrderedItem(first));
  }
  // Indented lines, fences included, belong to the list item above them.
  if (kind === "list") return LIST_ITEM.test(line) || /^\s/.test(line);
  if (HEADING_LINE.test(line) || FENCE.test(line)) return false;
  return lineKind(line) === kind;
}

interface ListItems {
  ordered: boolean;
  /** Each top-level item without its marker, nested lines included. */
  texts: string[];
}

function listItems(text: string): ListItems {
  const lines = text.split("\n");
  const indent = Math.min(...lines.filter((line) => LIST_ITEM.test(line)).map(indentOf));
  const texts: string[] = [];
  for (const line of lines) {
    if (LIST_ITEM.test(line) && indentOf(line) === indent) texts.push(line.replace(LIST_ITEM, ""));
    else if (texts.length > 0) texts[texts.length - 1] += `\n${line}`;
  }
  return { ordered: isOrderedItem(lines[0] ?? ""), texts: texts.map((item) => item.trim()) };
}

function isOrderedItem(line: string): boolean {
  return /^\s*\d/.test(line);
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

// ---------------------------------------------------------------------------------------------------------
// Sentences and words

/** Terminal punctuation and a space before a capital, digit or quote, and CJK full stops: as the chunker cuts. */
const SENTENCE_BOUNDARY = /(?<=[.!?…]["'”’)\]]*)\s+(?=["'“‘([`]?[\p{Lu}\p{N}])|(?<=[。！？])\s*(?=\S)/gu;
const SENTENCE_START = /^["'“‘([`*_]*[\p{Lu}\p{N}\p{Lo}`]/u;
const SENTENCE_END = /[.!?…:。！？]["'”’)\]*_`]*$/u;

function splitSentences(text: string): string[] {
  return text
    .replace(/\s+/g, " ")
    .split(SENTENCE_BOUNDARY)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== "");
}

/** Sentences back into running text; CJK full stops are followed by no space. */
function joinSentences(sentences: string[]): string {
  return sentences.reduce((text, sentence) => {
    if (!text) return sentence;
    return /[。！？]$/.test(text) ? text + sentence : `${text} ${sentence}`;
  }, "");
}

function startsLikeSentence(text: string): boolean {
  return SENTENCE_START.test(text);
}

function endsLikeSentence(text: string): boolean {
  return SENTENCE_END.test(text);
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => word !== "").length;
}

function isTitleWord(word: string): boolean {
  return /^\p{Lu}\p{Ll}+$/u.test(word);
}

/**
 * How the chunk's body writes its words, to case heading words and terms inside a question: a word the body
 * writes in lowercase is a common word, one it capitalises mid-sentence is a name.
 */
interface Vocabulary {
  lower: ReadonlySet<string>;
  names: ReadonlySet<string>;
}

const LOWERCASE_WORD = /(?<![\p{L}\p{N}])\p{Ll}[\p{L}\p{N}'’-]*/gu;
const MID_SENTENCE_NAME = /(?<=[\p{L}\p{N},;)]\s+)\p{Lu}[\p{L}\p{N}'’-]*/gu;

function vocabularyOf(sections: Section[]): Vocabulary {
  const lower = new Set<string>();
  const names = new Set<string>();
  for (const section of sections) {
    for (const block of section.blocks) {
      for (const match of block.text.matchAll(LOWERCASE_WORD)) lower.add(match[0]);
      for (const match of block.text.matchAll(MID_SENTENCE_NAME)) names.add(match[0]);
    }
  }
  return { lower, names };
}

/**
 * "Configure Backups" reads "configure backups" in a question, but "Linux" stays "Linux". A word the body
 * also writes in lowercase is lowered (a UI label "Backups" does not make "backups" a name); otherwise a
 * word the body capitalises mid-sentence is kept, and the rest follow `titleCased`: lowered when the words
 * were capitalised by convention (Title Case headings, the start of a sentence), else kept.
 */
function caseInSentence(text: string, vocabulary: Vocabulary, titleCased: boolean): string {
  return text.replace(/[\p{L}\p{N}'’-]+/gu, (word) => {
    if (!isTitleWord(word)) return word;
    const lower = word.toLowerCase();
    if (vocabulary.lower.has(lower)) return lower;
    return titleCased && !vocabulary.names.has(word) ? lower : word;
  });
}

/** A term as written, but for a common word the body also writes in lowercase, and a leading article. */
function termCase(term: string, vocabulary: Vocabulary): string {
  const cased = caseInSentence(term, vocabulary, false);
  return cased.replace(/^(?:A|An|The)\b/, (article) => article.toLowerCase());
}

/** Every word of four letters or more capitalised, as in "Getting Started" or "Install on Linux". */
function isTitleCased(text: string): boolean {
  const long = text.split(/\s+/).filter((word) => /^\p{L}{4,}/u.test(word));
  return long.length >= 2 && long.every((word) => /^\p{Lu}/u.test(word));
}

// ---------------------------------------------------------------------------------------------------------
// Headings

const MAX_HEADING_WORDS = 12;
const LABEL_LEVELS = 2;

function topicOf(path: string[], vocabulary: Vocabulary): Topic | undefined {
  const heading = path.at(-1)?.trim();
  if (!heading || wordCount(heading) > MAX_HEADING_WORDS) return undefined;
  const label = `“${path.slice(-LABEL_LEVELS).join(" > ")}”`;
  const isGlossary = GLOSSARY_HEADING.test(heading);
  const bare = stripNumbering(stripEmphasis(heading));
  if (bare.endsWith("?") && startsLikeSentence(bare)) return { label, question: bare, isGlossary };
  const task = taskPhrase(bare, vocabulary);
  return task ? { label, task, isGlossary } : { label, isGlossary };
}

/** "2.1 Install", "Step 3: Install" → "Install". */
function stripNumbering(heading: string): string {
  return heading.replace(/^(?:(?:step|part|chapter)\s+)?\d+(?:\.\d+)*[.):]?\s+/i, "").trim();
}

/**
 * The heading as a task, when it starts with a verb ("Install on Linux", "Installing on Linux", "How to
 * install on Linux" → "install on Linux"); undefined for a noun phrase.
 */
function taskPhrase(heading: string, vocabulary: Vocabulary): string | undefined {
  const text = heading.replace(/^how to\s+/i, "").replace(/[.:!]+$/, "");
  const [first = "", ...rest] = text.split(/\s+/);
  const verb = baseVerb(first.toLowerCase());
  if (!verb || (rest.length === 1 && NOUN_TAILS.has(rest[0]?.toLowerCase() ?? ""))) return undefined;
  return [verb, caseInSentence(rest.join(" "), vocabulary, isTitleCased(text))].join(" ").trim();
}

function baseVerb(word: string): string | undefined {
  if (VERBS.has(word)) return word;
  return GERUNDS.get(word);
}

const VERBS = new Set(
  (
    "add adjust allow analyze apply approve archive assign authenticate authorize automate avoid back build " +
    "bootstrap calculate call cancel change check choose clean clear clone close collect compare compile " +
    "configure connect contribute convert copy create customize debug define delete deploy describe " +
    "disable download edit embed enable enforce estimate evaluate export extend fetch filter find fine-tune " +
    "fix format generate get handle import improve initialize install integrate invite keep label launch " +
    "limit link list load lock log manage map measure merge migrate monitor mount move open optimize " +
    "organize pause pick prepare prevent publish pull push query read rebuild recover reduce refresh " +
    "register reload remove rename render replace request reset resize restart restore resume retry " +
    "review revoke rotate run save scale schedule search secure select send set share sign sort split " +
    "start stop store submit switch sync tag test track train translate troubleshoot tune uninstall " +
    "unlock update upgrade upload use validate verify view watch work write"
  ).split(" "),
);

/** Words after a verb-like first word that make the heading a noun phrase ("Upgrade notes", "Test results"). */
const NOUN_TAILS = new Set(
  (
    "api basics checklist commands costs details endpoints errors examples flags format formats guide " +
    "history instructions issues limits log logs notes options overview parameters policy pricing process " +
    "reference requirements results settings status steps strategy summary tips workflow"
  ).split(" "),
);

/** "installing" → "install", "configuring" → "configure", "running" → "run", "getting" → "get". */
const GERUNDS = new Map(
  [...VERBS].flatMap((verb) => {
    const forms = [`${verb}ing`, `${verb}${verb.at(-1)}ing`];
    if (verb.endsWith("e") && !verb.endsWith("ee")) forms.push(`${verb.slice(0, -1)}ing`);
    return forms.map((form) => [form, verb] as const);
  }),
);
