/**
 * The seed's "filter pairs with suspicious content": a last check on each generated pair before it is
 * stored. A pair that fails is kept as rejected with these reasons, so every rule errs towards flagging
 * (a reviewer can restore a pair) but stays quiet on the look-alikes that ordinary answers contain.
 */
import { scanForInjection } from "../injection-scan.js";
import type { GeneratedPair } from "./types.js";

export interface PairReview {
  rejected: boolean;
  /** Short, readable, and never quoting a secret: reviewers and logs see them. */
  reasons: string[];
}

export interface PairReviewContext {
  /** The chunk the pair was generated from. */
  sourceText: string;
  /** Texts an answer must not repeat: the generation system prompt, the dataset's system prompt. */
  promptTexts: string[];
}

export function reviewPair(pair: GeneratedPair, context: PairReviewContext): PairReview {
  const all = pair.messages.map((m) => m.content);
  const answers = pair.messages.filter((m) => m.role === "assistant").map((m) => m.content);
  const reasons = unique([
    ...all.flatMap(injectionReasons),
    ...leakReasons(answers, context),
    ...all.flatMap(secretReasons),
    ...answers.flatMap(refusalReasons),
    ...urlReasons(all, context.sourceText),
  ]);
  return { rejected: reasons.length > 0, reasons };
}

function unique(reasons: string[]): string[] {
  return [...new Set(reasons)];
}

const MAX_QUOTE_LENGTH = 60;

function quote(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return `"${flat.length > MAX_QUOTE_LENGTH ? `${flat.slice(0, MAX_QUOTE_LENGTH - 1)}…` : flat}"`;
}

// ---------------------------------------------------------------------------------------------------------
// Injection phrases: the chunk scanner's rules, so a pair and a chunk are judged alike.

function injectionReasons(content: string): string[] {
  const scan = scanForInjection(content);
  return scan.flagged ? scan.reasons.map((finding) => `injection: ${finding.rule}`) : [];
}

// ---------------------------------------------------------------------------------------------------------
// Leaked prompt text

/**
 * Eight words in a row: long enough that an answer shares such a run with a prompt only by copying it
 * ("use only facts stated in the excerpt" is seven), short enough to catch a paraphrase that quotes a
 * sentence of it.
 */
export const LEAK_RUN_WORDS = 8;

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function runs(tokens: readonly string[], length: number): Map<string, number> {
  const found = new Map<string, number>();
  for (let i = 0; i + length <= tokens.length; i++) {
    const run = tokens.slice(i, i + length).join(" ");
    if (!found.has(run)) found.set(run, i);
  }
  return found;
}

/** A run the source also contains is grounded content, not a leak (a prompt may quote the documents). */
function leakReasons(answers: readonly string[], { promptTexts, sourceText }: PairReviewContext): string[] {
  const promptRuns = new Map<string, number>();
  for (const prompt of promptTexts) {
    for (const [run, at] of runs(words(prompt), LEAK_RUN_WORDS)) promptRuns.set(run, at);
  }
  if (promptRuns.size === 0) return [];
  const sourceRuns = runs(words(sourceText), LEAK_RUN_WORDS);
  for (const answer of answers) {
    for (const run of runs(words(answer), LEAK_RUN_WORDS).keys()) {
      if (promptRuns.has(run) && !sourceRuns.has(run)) return [`leaked prompt text: ${quote(run)}`];
    }
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------------
// Secrets

interface SecretRule {
  name: string;
  pattern: RegExp;
  /** The key-like part, checked to look random so that placeholders do not count. */
  group?: number;
}

/** Every pattern has bounded repetition, so matching stays linear whatever the text. */
const SECRET_RULES: readonly SecretRule[] = [
  { name: "OpenAI API key", pattern: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}/g },
  { name: "Anthropic API key", pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { name: "OpenRouter API key", pattern: /\bsk-or-v1-[a-f0-9]{40,}/g },
  {
    name: "OpenAI API key",
    pattern: /\bsk-(?!proj-|svcacct-|admin-|ant-|or-)([A-Za-z0-9]{20,})(?![\w-])/g,
    group: 1,
  },
  { name: "Together API key", pattern: /\btgp_v1_[A-Za-z0-9_-]{30,}/g },
  {
    name: "Together API key",
    pattern: /\btogether[\w-]{0,20}?(?:key|token)["']?\s*[:=]\s*["']?([a-f0-9]{64})\b/gi,
    group: 1,
  },
  { name: "AWS access key", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { name: "GitHub token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})/g },
  { name: "Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  {
    name: "Slack webhook",
    pattern: /hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{20,}/g,
  },
  { name: "Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { name: "Stripe secret key", pattern: /\b(?:sk|rk)_live_[A-Za-z0-9]{20,}/g },
  {
    name: "private key",
    pattern: /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,200}?[A-Za-z0-9+/]{40}/g,
  },
  { name: "bearer token", pattern: /\bbearer\s+([\w\-.~+/]{20,}=*)/gi, group: 1 },
  {
    name: "API key or token",
    pattern:
      /(?<![A-Za-z0-9])(?:api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret[_-]?(?:access[_-]?)?key|client[_-]?secret|auth[_-]?token|access[_-]?token|secret|token)["']?\s*[:=]\s*["']?([A-Za-z0-9\-_.+/]{20,})/gi,
    group: 1,
  },
];

/** AWS's documentation key, used in examples everywhere. */
const DOCUMENTED_EXAMPLES = /EXAMPLE/;

/**
 * A real key is random: letters and digits, many distinct characters. Placeholders ("sk-xxxxxxxx…",
 * "YOUR_API_KEY_GOES_HERE_NOW") are not, and documentation is full of them.
 */
function looksRandom(value: string): boolean {
  const hasDigit = /\d/.test(value);
  const hasLetter = /[A-Za-z]/.test(value);
  return hasDigit && hasLetter && new Set(value).size >= Math.min(12, value.length / 2);
}

/**
 * Every rule's match contains one of these, so a text without any — nearly every text — is done after one
 * scan instead of one per rule: validation runs the rules over every message of every pair.
 */
const SECRET_HINT =
  /sk[-_]|rk_live_|tgp_v1_|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abposr]-|hooks\.slack\.com|AIza|PRIVATE KEY|bearer\s|(?:key(?:[_-]?id)?|token|secret)["']?\s*[:=]/i;

/** The kinds of credential in a text ("OpenAI API key" …), never the values; validation uses it too. */
export function secretKinds(content: string): string[] {
  const kinds: string[] = [];
  if (!SECRET_HINT.test(content)) return kinds;
  for (const { name, pattern, group } of SECRET_RULES) {
    for (const match of content.matchAll(pattern)) {
      const value = match[group ?? 0] ?? match[0];
      if (DOCUMENTED_EXAMPLES.test(match[0]) || !looksRandom(value)) continue;
      kinds.push(name);
      break;
    }
  }
  return kinds;
}

function secretReasons(content: string): string[] {
  return secretKinds(content).map((kind) => `secret: ${kind}`);
}

// ---------------------------------------------------------------------------------------------------------
// Refusals

/**
 * Phrases a model uses to decline or to talk about itself, anchored on the first person so that "sorry"
 * or "cannot" in ordinary prose ("the service cannot help with billing") do not match. The last pattern
 * is the non-answer a model gives when the excerpt lacks the fact, which teaches nothing either.
 */
const REFUSALS: readonly RegExp[] = [
  /\bas an ai(?: language model| model| assistant)?\b/,
  /\bas a (?:large )?language model\b/,
  /\bi(?: am|'m) (?:just )?an ai\b/,
  /\bi (?:cannot|can't|can not|am unable to|'m unable to|am not able to|won't|will not) (?:help|assist) (?:you )?with\b/,
  /\bi(?: am|'m) sorry,? but i (?:cannot|can't|can not|am unable|'m unable|am not able|won't|will not)\b/,
  /\bi apologi[sz]e,? but i (?:cannot|can't|can not|am unable|'m unable|am not able|won't|will not)\b/,
  /\bi (?:cannot|can't|can not|won't|will not) (?:comply|fulfil|fulfill|provide (?:that|this|an answer))\b/,
  /\bi(?: am|'m) (?:unable|not able) to (?:comply|provide|answer|fulfil|fulfill)\b/,
  /\bthe (?:provided |given )?(?:document|text|passage|excerpt|context) does not (?:contain|provide|mention|specify|say|include)\b/,
];

function refusalReasons(answer: string): string[] {
  const text = answer.toLowerCase().replace(/[’‘`]/g, "'").replace(/\s+/g, " ");
  for (const pattern of REFUSALS) {
    const match = pattern.exec(text);
    if (match) return [`refusal: ${quote(match[0])}`];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------------
// URLs absent from the source

const URL = /\b(?:https?:\/\/|www\.)[^\s<>"'`\])}]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?*_]+$/;

/** Scheme, "www." and a trailing slash do not make a different address. */
function comparable(url: string): string {
  return url
    .replace(TRAILING_PUNCTUATION, "")
    .replace(/^https?:\/\//i, "")
    .replace(/^www\./i, "")
    .replace(/\/+$/, "")
    .toLowerCase();
}

/**
 * An invented link is a hallucination at best and a phishing plant at worst. A URL counts as present when
 * the source contains it, or a longer URL it is the start of (an answer may cite the site of a page).
 */
function urlReasons(contents: readonly string[], sourceText: string): string[] {
  const source = sourceText.toLowerCase();
  const reasons: string[] = [];
  for (const content of contents) {
    for (const match of content.matchAll(URL)) {
      const url = match[0].replace(TRAILING_PUNCTUATION, "");
      const key = comparable(url);
      if (!key || source.includes(key)) continue;
      // A webhook or a key in a query string is itself a secret, which a reason must never repeat.
      const secret = secretKinds(url).length > 0;
      reasons.push(secret ? "URL not in source (it holds a secret)" : `URL not in source: ${quote(url)}`);
    }
  }
  return reasons;
}
