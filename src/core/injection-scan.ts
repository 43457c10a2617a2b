/**
 * Prompt-injection scan of a chunk before it is sent to a generator. It is a heuristic that marks a chunk
 * for review, so it favours the phrasings and tricks seen in real attacks and stays quiet on ordinary
 * documentation (config files, API references, READMEs that mention Base64 or chat templates in code).
 *
 * Every pattern is an alternation of literal words with bounded repetition, so matching is linear in the
 * text's length: no input can trigger catastrophic backtracking.
 */

export interface InjectionFinding {
  rule: string;
  /** At most `MAX_EXCERPT_LENGTH` characters, invisible characters written as escapes. */
  excerpt: string;
}

export interface InjectionScan {
  flagged: boolean;
  /** 1 − Π(1 − weight) over the rules that fired, in [0, 1]. */
  score: number;
  reasons: InjectionFinding[];
}

export interface InjectionRule {
  id: string;
  description: string;
  weight: number;
}

/**
 * Weights say how much one rule alone proves: ≥ 0.5 flags the chunk by itself; lower weights (a stray
 * zero-width space from a web page, a "System: Linux" line) only flag in company.
 */
export const INJECTION_RULES = [
  {
    id: "override-instructions",
    description: "Tells the model to ignore, disregard or forget its previous instructions",
    weight: 0.7,
  },
  {
    id: "role-reassignment",
    description: "Gives the model a new identity (“you are now …”)",
    weight: 0.5,
  },
  {
    id: "new-instructions",
    description: "Announces replacement instructions (“new instructions:”)",
    weight: 0.5,
  },
  {
    id: "jailbreak-persona",
    description: "Asks the model to act as DAN or another jailbreak persona",
    weight: 0.7,
  },
  {
    id: "conceal-from-user",
    description: "Asks the model to hide something from the user",
    weight: 0.5,
  },
  {
    id: "prompt-exfiltration",
    description: "Asks the model to reveal its system prompt or instructions",
    weight: 0.6,
  },
  {
    id: "fake-role-tag",
    description: "Contains chat-template control tokens or role headers (<|im_start|>, [INST], <<SYS>> …)",
    weight: 0.6,
  },
  {
    id: "role-line",
    description:
      "A line starts with “system:” or “assistant:”, or is a “## System:” heading, as in a forged transcript",
    weight: 0.4,
  },
  {
    id: "zero-width-characters",
    description: "Contains zero-width characters that can hide or split words",
    weight: 0.35,
  },
  {
    id: "bidi-controls",
    description: "Contains bidirectional control characters that reorder what a reader sees",
    weight: 0.4,
  },
  {
    id: "unicode-tags",
    description: "Contains Unicode tag characters, invisible text that models can still read",
    weight: 0.8,
  },
  {
    id: "base64-instructions",
    description: "Contains a base64 blob that decodes to instruction-like text",
    weight: 0.7,
  },
] as const satisfies readonly InjectionRule[];

export type InjectionRuleId = (typeof INJECTION_RULES)[number]["id"];

export const INJECTION_FLAG_THRESHOLD = 0.5;
export const MAX_EXCERPT_LENGTH = 80;
const MAX_FINDINGS_PER_RULE = 3;
const EXCERPT_CONTEXT = 32;
const MIN_BASE64_LENGTH = 40;
const MAX_BASE64_LENGTH = 100_000;

const WEIGHTS = new Map<string, number>(INJECTION_RULES.map((rule) => [rule.id, rule.weight]));

interface Span {
  start: number;
  end: number;
}

interface Hit {
  rule: InjectionRuleId;
  excerpt: string;
}

export function scanForInjection(text: string): InjectionScan {
  const revealed = reveal(text);
  const hits: Hit[] = [];
  const anyTextRule = TEXT_RULE_GATES.some((gate) => gate.test(revealed.text));
  for (const rule of anyTextRule ? TEXT_RULES : []) {
    for (const span of findSpans(rule, revealed.text)) {
      hits.push({ rule: rule.id, excerpt: excerpt(text, revealed.toOriginal(span)) });
    }
  }
  hits.push(...hiddenCharacterHits(text), ...base64Hits(text));
  return summarize(hits);
}

function summarize(hits: readonly Hit[]): InjectionScan {
  const reasons: InjectionFinding[] = [];
  let clean = 1;
  for (const { id, weight } of INJECTION_RULES) {
    const own = hits.filter((hit) => hit.rule === id).slice(0, MAX_FINDINGS_PER_RULE);
    if (own.length === 0) continue;
    clean *= 1 - weight;
    reasons.push(...own.map(({ rule, excerpt }) => ({ rule, excerpt })));
  }
  const score = Math.round((1 - clean) * 1000) / 1000;
  return { flagged: score >= INJECTION_FLAG_THRESHOLD, score, reasons };
}

/** The weight of a rule by id, for callers that combine stored findings. */
export function injectionRuleWeight(ruleId: string): number | undefined {
  return WEIGHTS.get(ruleId);
}

// ---------------------------------------------------------------------------------------------------
// Phrase and tag rules, matched on the revealed text

interface TextRule {
  id: InjectionRuleId;
  patterns: readonly RegExp[];
  /** Rejects a match that is a harmless look-alike. */
  accept?: (text: string, span: Span) => boolean;
}

const NEGATION = "(?:do\\s+not|don['’]?t|never|must\\s+not)";

const TEXT_RULES: readonly TextRule[] = [
  {
    id: "override-instructions",
    patterns: [
      /\b(?:ignore|disregard|forget|skip|override|bypass|discard|neglect)\s+(?:(?:all|any|the|your|my|these|those|every|of|that)\s+){0,3}(?:previous|prior|above|earlier|preceding|foregoing|former|original|initial|system|existing)\s+(?:instructions?|prompts?|directions?|directives?|rules|guidelines|commands?)\b/gi,
      /\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?your\s+(?:(?:previous|prior|original|initial|current|safety|content|ethical|moral)\s+)?(?:instructions?|rules|guidelines|programming|training|directives?|system\s+prompt)\b/gi,
      /\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+|anything\s+){1,2}(?:above|before\s+this|you\s+(?:were|have\s+been)\s+told)\b/gi,
      // The same, as attacks translate it: Spanish, Portuguese, French, Italian, German, Russian, Chinese,
      // Japanese, Korean. Each asks for the instructions before or above, so "ignore the rules for temp
      // files" in any of them stays quiet.
      /\b(?:ignora|ignore|ignorar|olvida|olvide|esque[çc]a|desconsidere|descarta)\s+(?:(?:todas|todos|las|los|as|os|tus|sus|suas)\s+){0,3}(?:instrucciones|indicaciones|instru[çc][õo]es|orienta[çc][õo]es)\s+(?:anteriores|previas|pr[ée]vias)\b/gi,
      /\b(?:ignore[rz]?|oublie[rz]?)\s+(?:(?:toutes|tous|les|tes|vos|ces)\s+){0,3}(?:instructions|consignes|directives)\s+(?:pr[ée]c[ée]dentes|ant[ée]rieures|ci-dessus)/gi,
      /\b(?:ignora|ignorate|dimentica|dimenticate)\s+(?:(?:tutte|tutti|le|gli|tue|sue)\s+){0,3}(?:istruzioni|indicazioni)\s+(?:precedenti|sopra)\b/gi,
      /\b(?:ignoriere|ignorieren\s+sie|vergiss|vergessen\s+sie|missachte)\s+(?:(?:alle|all|die|deine|ihre|s[äa]mtliche)\s+){0,2}(?:vorherigen|bisherigen|vorigen|obigen|fr[üu]heren|urspr[üu]nglichen)\s+(?:anweisungen|instruktionen|befehle|vorgaben)/gi,
      /(?:игнорируй|игнорируйте|забудь|забудьте)\s+(?:(?:все|всё|свои|ваши|мои)\s+){0,2}(?:предыдущие|прежние|прошлые|вышеуказанные)\s+(?:инструкции|указания|команды)/gi,
      /(?:忽略|无视|無視|忘记|忘記|忘掉)(?:掉)?(?:你|您)?(?:之前|以前|先前|上面|上述|前面|此前)(?:的)?(?:所有|全部|一切)?(?:的)?(?:指令|指示|提示词|提示詞|系统提示|系統提示)/g,
      // 前 and 위 alone, not as the end of another word (事前 "in advance", 午前 "morning", 상위 "upper").
      /(?:以前|(?<![\u4e00-\u9fff])前|これまで|上記|先ほど|今まで)の(?:すべての|全ての)?(?:指示|命令|指令|プロンプト)(?:は|を)?(?:すべて|全て)?(?:無視|忘れ)/g,
      /(?:이전|(?<![\uac00-\ud7a3])(?:앞|위)|지금까지)(?:의)?\s*(?:모든\s*)?(?:지시|지침|명령|프롬프트)(?:사항)?(?:을|를|은|는)?\s*(?:모두\s*)?(?:무시|잊어)/g,
    ],
    accept: (text, span) => !isNegated(text, span),
  },
  {
    id: "role-reassignment",
    patterns: [
      /\b(?:you\s+are\s+now|from\s+now\s+on,?\s+you\s+are|you\s+will\s+now\s+(?:act|behave)\s+as)\s+(?:(?:a|an|the|my)\s+)?(?:[\w-]+\s+){0,2}?(?:ai|assistant|chatbot|bot|language\s+model|llm|persona|character|dan|jailbroken|unrestricted|unfiltered|uncensored)\b/gi,
      /\byou\s+are\s+no\s+longer\s+(?:bound|restricted|limited|constrained|required\s+to\s+follow)\b/gi,
      // Not any mode ("you are now in edit mode" is a how-to): the ones jailbreak prompts announce.
      /\byou\s+are\s+now\s+(?:in|running\s+in|operating\s+in)\s+(?:developer|dev|god|dan|jailbr(?:eak|oken)|unrestricted|unfiltered|uncensored)\s+mode\b/gi,
    ],
  },
  {
    id: "new-instructions",
    patterns: [
      /\b(?:new|real|actual|true|secret|hidden|override)\s+(?:instructions?|directives?|system\s+prompt)\s*:/gi,
      /\byour\s+(?:new|real|actual|true)\s+(?:task|instructions?|role|objective|goal|purpose|job)\s+(?:is|are|will\s+be)\b/gi,
    ],
  },
  {
    id: "jailbreak-persona",
    patterns: [
      /\b(?:act|acting|behave|respond|answer|pretend|roleplay|role-play)\s+(?:as|like|to\s+be)\s+(?:(?:a|an|the)\s+)?(?:[\w-]+\s+){0,2}?(?:dan|jailbr(?:eak|oken)\w*|unrestricted|unfiltered|uncensored|evil)\b/gi,
      /\b(?:dan|jailbreak|jailbroken)\s+mode\b/gi,
      /\bdo\s+anything\s+now\b/gi,
    ],
  },
  {
    id: "conceal-from-user",
    patterns: [
      new RegExp(
        `\\b${NEGATION}\\s+(?:tell|inform|(?:mention|reveal|disclose|show)\\s+(?:this|these|it|that|them|anything)\\s+to)\\s+(?:the\\s+)?(?:user|human)\\b`,
        "gi",
      ),
      new RegExp(`\\b${NEGATION}\\s+let\\s+(?:the\\s+)?(?:user|human)\\s+know\\b`, "gi"),
      /\bkeep\s+(?:this|these|it|them)\s+(?:(?:instructions?|messages?)\s+)?(?:secret|hidden|confidential)\s+from\s+the\s+(?:user|human)\b/gi,
    ],
  },
  {
    id: "prompt-exfiltration",
    patterns: [
      /\b(?:reveal|leak|disclose|expose|dump|recite|exfiltrate)\s+(?:(?:me|us|all|of|to)\s+){0,3}(?:your|the)\s+(?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal)\s+){0,2}(?:system\s+prompt|system\s+message|prompt|instructions|guidelines)\b/gi,
      /\b(?:print|show|display|output|repeat|tell\s+me|give\s+me|write\s+out|share|copy)\s+(?:(?:me|us|all|of)\s+){0,3}your\s+(?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal)\s+){0,2}(?:system\s+prompt|system\s+message|initial\s+prompt|original\s+prompt|hidden\s+prompt|instructions)\b/gi,
      /\brepeat\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?(?:words|text|everything)\s+above\b/gi,
      /\bwhat\s+(?:is|are|was|were)\s+your\s+(?:system\s+prompt|(?:initial|original|hidden|secret)\s+(?:prompt|instructions))\b/gi,
    ],
  },
  {
    id: "fake-role-tag",
    patterns: [
      /<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|begin_of_text|end_of_text|start_header_id|end_header_id|eot_id)\|>/gi,
      /\[\/?INST\]/g,
      /<<\/?SYS>>/g,
      /<\/s>/g,
      // A one-word element such as Maven's <system>GitHub</system> is configuration, not a role.
      /<system>(?![^<\s]{0,40}<\/system>)/gi,
      /<\/system>(?<!<system>[^<\s]{0,40}<\/system>)/gi,
    ],
    accept: (text, span) => !isQuotedMention(text, span) && !isStrikethroughClose(text, span),
  },
  {
    id: "role-line",
    patterns: [
      /^[ \t]*(?:system|assistant)[ \t]*:/gim,
      // As a heading too, but no more than the line: a sysadmin guide's "## System:" or a recipe's
      // "## Instructions:" is as likely as a forged prompt's.
      /^[ \t]*#{1,6}[ \t]*(?:system|instructions?)[ \t]*:[ \t]*$/gim,
    ],
  },
];

/**
 * Per set of flags, one regex alternating all the text rules' patterns with those flags: it matches a text
 * exactly when one of them does, so a chunk that matches none (nearly every chunk) is scanned three times
 * instead of 25, in half the time.
 */
const TEXT_RULE_GATES: readonly RegExp[] = (() => {
  const byFlags = new Map<string, string[]>();
  for (const pattern of TEXT_RULES.flatMap((rule) => rule.patterns)) {
    byFlags.set(pattern.flags, [...(byFlags.get(pattern.flags) ?? []), `(?:${pattern.source})`]);
  }
  // Without `g`, `test` keeps no position between calls.
  return [...byFlags].map(([flags, sources]) => new RegExp(sources.join("|"), flags.replace("g", "")));
})();

/** "Never ignore your safety training", "don't disregard the previous rules": the advice, not the attack. */
function isNegated(text: string, { start }: Span): boolean {
  return /(?:\bnever|\bnot|n['’]t)\s+$/i.test(text.slice(Math.max(0, start - 12), start));
}

/** A token written as `[INST]` or "<|im_start|>" is documentation talking about it. */
function isQuotedMention(text: string, { start, end }: Span): boolean {
  const before = text[start - 1];
  return before !== undefined && "`'\"".includes(before) && text[end] === before;
}

/** HTML's <s>…</s> strikethrough, as opposed to a lone end-of-sequence token. */
function isStrikethroughClose(text: string, { start, end }: Span): boolean {
  if (text.slice(start, end) !== "</s>") return false;
  const open = text.lastIndexOf("<s>", start);
  return open !== -1 && open > text.lastIndexOf("</s>", start - 1);
}

function findSpans(rule: TextRule, text: string): Span[] {
  const spans: Span[] = [];
  for (const pattern of rule.patterns) {
    for (const match of text.matchAll(pattern)) {
      const span = { start: match.index, end: match.index + match[0].length };
      if (rule.accept && !rule.accept(text, span)) continue;
      spans.push(span);
      if (spans.length >= MAX_FINDINGS_PER_RULE) return spans.sort((a, b) => a.start - b.start);
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}

// ---------------------------------------------------------------------------------------------------
// Revealing what a reader cannot see

const ZERO_WIDTH_SPACE = 0x200b;
const ZERO_WIDTH_NON_JOINER = 0x200c;
const ZERO_WIDTH_JOINER = 0x200d;
const BYTE_ORDER_MARK = 0xfeff;
const BLACK_FLAG = 0x1f3f4;
const CANCEL_TAG = 0xe007f;

type HiddenRule = "zero-width-characters" | "bidi-controls" | "unicode-tags";

function hiddenRule(cp: number): HiddenRule | undefined {
  if ((cp >= ZERO_WIDTH_SPACE && cp <= ZERO_WIDTH_JOINER) || (cp >= 0x2060 && cp <= 0x2064)) {
    return "zero-width-characters";
  }
  if (cp === BYTE_ORDER_MARK || cp === 0x180e) return "zero-width-characters";
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return "bidi-controls";
  if (cp >= 0xe0000 && cp <= CANCEL_TAG) return "unicode-tags";
  return undefined;
}

/** Tags U+E0020–U+E007E mirror printable ASCII: that is how "ASCII smuggling" hides a message. */
function decodedTag(cp: number): string | undefined {
  return cp >= 0xe0020 && cp <= 0xe007e ? String.fromCharCode(cp - 0xe0000) : undefined;
}

/** Invisible to a reader but not part of any rule: soft hyphen, left-to-right and right-to-left marks. */
function isSilentlyDropped(cp: number): boolean {
  return cp === 0x00ad || cp === 0x200e || cp === 0x200f;
}

/** Full-width and mathematical letters read as ASCII to a model but slip past ASCII patterns. */
function asciiLookAlike(cp: number): string | undefined {
  if (cp >= 0xff01 && cp <= 0xff5e) return String.fromCharCode(cp - 0xfee0);
  if (cp >= 0x1d400 && cp <= 0x1d7ff) {
    const folded = String.fromCodePoint(cp).normalize("NFKC");
    return folded.length === 1 ? folded : undefined;
  }
  return undefined;
}

const NEEDS_REVEAL =
  /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\uff01-\uff5e\u{1d400}-\u{1d7ff}\u{e0000}-\u{e007f}]/u;

interface Revealed {
  text: string;
  toOriginal(span: Span): Span;
}

/**
 * The text as a model reads it: invisible characters removed (so "ig\u200bnore" matches), tag
 * characters decoded, look-alike letters folded, with a map back to the original for excerpts.
 */
function reveal(text: string): Revealed {
  if (!NEEDS_REVEAL.test(text)) return { text, toOriginal: (span) => span };
  let out = "";
  const starts: number[] = [];
  const ends: number[] = [];
  let inTagRun = false;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i) ?? 0;
    const size = cp > 0xffff ? 2 : 1;
    const isTag = decodedTag(cp) !== undefined;
    // A smuggled message is a separate utterance: spaces keep its first and last words whole for \b.
    const separator = isTag !== inTagRun ? " " : "";
    inTagRun = isTag;
    const replacement = separator + revealedForm(cp, text.slice(i, i + size));
    for (let k = 0; k < replacement.length; k++) {
      starts.push(i);
      ends.push(i + size);
    }
    out += replacement;
    i += size;
  }
  return {
    text: out,
    toOriginal: ({ start, end }) => ({
      start: starts[start] ?? text.length,
      end: end > start ? (ends[end - 1] ?? text.length) : (starts[start] ?? text.length),
    }),
  };
}

function revealedForm(cp: number, original: string): string {
  if (hiddenRule(cp) === "unicode-tags") return decodedTag(cp) ?? "";
  if (hiddenRule(cp) !== undefined || isSilentlyDropped(cp)) return "";
  return asciiLookAlike(cp) ?? original;
}

// ---------------------------------------------------------------------------------------------------
// Hidden characters

function isEmojiPart(cp: number | undefined): boolean {
  if (cp === undefined) return false;
  if (cp === 0xfe0f || (cp >= 0x1f3fb && cp <= 0x1f3ff)) return true;
  return /\p{Extended_Pictographic}/u.test(String.fromCodePoint(cp));
}

function isNonLatinLetter(cp: number | undefined): boolean {
  return cp !== undefined && cp >= 0x0370 && /[\p{L}\p{M}]/u.test(String.fromCodePoint(cp));
}

/** Joiners are part of spelling in Persian, Indic scripts and emoji sequences such as 👩‍💻. */
function isLegitimateJoiner(cp: number, previous: number | undefined, next: number | undefined): boolean {
  if (cp !== ZERO_WIDTH_JOINER && cp !== ZERO_WIDTH_NON_JOINER) return false;
  if (cp === ZERO_WIDTH_JOINER && isEmojiPart(previous) && isEmojiPart(next)) return true;
  return isNonLatinLetter(previous) && isNonLatinLetter(next);
}

/**
 * Subdivision flags (🏴, a few lowercase tag letters or digits, cancel tag: England's is "gbeng") are the
 * one legitimate use of tags; anything longer or with other characters is a hidden message.
 */
const MAX_FLAG_TAGS = 7;

function isFlagTag(cp: number): boolean {
  return (cp >= 0xe0030 && cp <= 0xe0039) || (cp >= 0xe0061 && cp <= 0xe007a);
}

/** Flag tags seen since a 🏴, or -1 outside a flag sequence. */
function nextFlagTagCount(cp: number, count: number): number {
  if (cp === BLACK_FLAG) return 0;
  return count >= 0 && isFlagTag(cp) ? count + 1 : -1;
}

interface HiddenRun {
  rule: HiddenRule;
  span: Span;
}

/** Consecutive hidden characters of one kind form one run, hence one finding. */
function hiddenRuns(text: string): HiddenRun[] {
  const runs: HiddenRun[] = [];
  let previous: number | undefined;
  let flagTags = -1;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i) ?? 0;
    const size = cp > 0xffff ? 2 : 1;
    const rule = hiddenRule(cp);
    flagTags = nextFlagTagCount(cp, flagTags);
    const exempt =
      (cp === BYTE_ORDER_MARK && i === 0) ||
      (rule === "unicode-tags" && flagTags >= 1 && flagTags <= MAX_FLAG_TAGS) ||
      (cp === CANCEL_TAG && previous !== undefined && isFlagTag(previous)) ||
      isLegitimateJoiner(cp, previous, text.codePointAt(i + size));
    if (rule !== undefined && !exempt) {
      const last = runs.at(-1);
      if (last && last.rule === rule && last.span.end === i) last.span.end = i + size;
      else runs.push({ rule, span: { start: i, end: i + size } });
    }
    previous = cp;
    i += size;
  }
  return runs;
}

// Every hidden character is outside ASCII, and most chunks are ASCII only: one scan skips the walk.
const NON_ASCII = /[^\p{ASCII}]/u;

function hiddenCharacterHits(text: string): Hit[] {
  if (!NON_ASCII.test(text)) return [];
  return hiddenRuns(text).map(({ rule, span }) => ({ rule, excerpt: excerpt(text, span) }));
}

// ---------------------------------------------------------------------------------------------------
// Base64

const BASE64_RUN = new RegExp(`[A-Za-z0-9+/_-]{${MIN_BASE64_LENGTH},}={0,2}`, "g");

/** Per UTF-16 code unit below 128: 1 when `BASE64_RUN`'s alphabet has it. */
const BASE64_ALPHABET = Uint8Array.from({ length: 128 }, (_, c) =>
  /[A-Za-z0-9+/_-]/.test(String.fromCharCode(c)) ? 1 : 0,
);

/**
 * Whether any run of the alphabet is long enough to be a blob: one pass, where the regex tries a match at
 * every word's every letter (it took longer than all the other rules together).
 */
function hasBase64Run(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    run = c < 128 && BASE64_ALPHABET[c] === 1 ? run + 1 : 0;
    if (run >= MIN_BASE64_LENGTH) return true;
  }
  return false;
}

function base64Hits(text: string): Hit[] {
  if (!hasBase64Run(text)) return [];
  const hits: Hit[] = [];
  for (const match of text.matchAll(BASE64_RUN)) {
    const blob = match[0];
    const decoded = blob.length <= MAX_BASE64_LENGTH ? decodeBase64Text(blob) : undefined;
    if (decoded === undefined) continue;
    const span = firstInstructionSpan(decoded);
    if (span === undefined) continue;
    const prefix = `${blob.slice(0, 12)}… → `;
    hits.push({
      rule: "base64-instructions",
      excerpt: prefix + excerpt(decoded, span, MAX_EXCERPT_LENGTH - prefix.length),
    });
    if (hits.length >= MAX_FINDINGS_PER_RULE) break;
  }
  return hits;
}

function firstInstructionSpan(decoded: string): Span | undefined {
  const revealed = reveal(decoded);
  for (const rule of TEXT_RULES) {
    const [span] = findSpans(rule, revealed.text);
    if (span) return revealed.toOriginal(span);
  }
  return undefined;
}

const LETTER_OR_SPACE = /[\p{L}\s]/u;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Text only: hashes, images and other binary payloads decode to bytes that are not valid UTF-8 text. */
function decodeBase64Text(blob: string): string | undefined {
  const standard = blob.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  if (standard.length % 4 === 1) return undefined;
  let binary: string;
  try {
    binary = atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, "="));
  } catch {
    return undefined;
  }
  let decoded: string;
  try {
    decoded = UTF8.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  return looksLikeText(decoded) ? decoded : undefined;
}

/** Prose is mostly letters and spaces and has no control characters besides line breaks and tabs. */
function looksLikeText(decoded: string): boolean {
  let letters = 0;
  for (const char of decoded) {
    const cp = char.codePointAt(0) ?? 0;
    if ((cp < 0x20 && !"\t\n\r".includes(char)) || cp === 0x7f || cp === 0xfffd) return false;
    if (LETTER_OR_SPACE.test(char)) letters++;
  }
  return letters >= decoded.length * 0.7;
}

// ---------------------------------------------------------------------------------------------------
// Excerpts

const ESCAPED_CONTROL: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

function escapeCodePoint(cp: number): string {
  const hex = cp.toString(16);
  return cp > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, "0")}`;
}

/**
 * Display tokens of text[start, end): one per code point, one per run of tag characters. Stops once
 * past `maxWidth`, since a match can be a run of a million invisible characters.
 */
function displayTokens(
  text: string,
  start: number,
  end: number,
  maxWidth = Number.POSITIVE_INFINITY,
): string[] {
  const tokens: string[] = [];
  let width = 0;
  let tagRun = "";
  const flushTags = () => {
    if (tagRun) tokens.push(`[tags:"${tagRun}"]`);
    tagRun = "";
  };
  for (let i = start; i < end && width + tagRun.length <= maxWidth; ) {
    const cp = text.codePointAt(i) ?? 0;
    const char = String.fromCodePoint(cp);
    const tag = decodedTag(cp);
    if (tag !== undefined) tagRun += tag;
    else {
      flushTags();
      const token = displayForm(cp, char);
      tokens.push(token);
      width += token.length;
    }
    i += char.length;
  }
  flushTags();
  return tokens;
}

function displayForm(cp: number, char: string): string {
  if (cp >= 0x20 && cp < 0x7f) return char;
  const control = ESCAPED_CONTROL[char];
  if (control !== undefined) return control;
  return INVISIBLE.test(char) || hiddenRule(cp) !== undefined ? escapeCodePoint(cp) : char;
}

/** Moves an index off the second half of a surrogate pair, so no code point is cut. */
function codePointBoundary(text: string, index: number): number {
  const clamped = Math.max(0, Math.min(text.length, index));
  const code = text.charCodeAt(clamped);
  return code >= 0xdc00 && code <= 0xdfff && clamped > 0 ? clamped - 1 : clamped;
}

function excerpt(text: string, span: Span, budget = MAX_EXCERPT_LENGTH): string {
  const match = displayTokens(text, span.start, span.end, budget);
  const core = match.join("");
  if (core.length > budget) {
    // Only a match this long (a run of tags) is cut inside a token: its start is what a reviewer needs.
    const head = tokensWithin(match, budget - 1).join("") || core.slice(0, budget - 1);
    return `${head}…`;
  }

  const contextStart = codePointBoundary(text, span.start - EXCERPT_CONTEXT);
  const contextEnd = codePointBoundary(text, span.end + EXCERPT_CONTEXT);
  const before = displayTokens(text, contextStart, span.start);
  const after = displayTokens(text, span.end, contextEnd);
  const room = budget - core.length;
  const beforeWidth = before.reduce((sum, token) => sum + token.length, 0) + (contextStart > 0 ? 1 : 0);
  const right = takeHead(after, room - Math.min(beforeWidth, Math.floor(room / 2)), contextEnd < text.length);
  const left = takeTail(before, room - right.length, contextStart > 0);
  return left + core + right;
}

/** As many leading tokens as fit in `max`, with "…" when anything is left out. */
function takeHead(tokens: readonly string[], max: number, textContinues: boolean): string {
  const taken = tokensWithin(tokens, max);
  const truncated = taken.length < tokens.length || textContinues;
  if (!truncated) return taken.join("");
  if (max < 1) return "";
  return `${tokensWithin(tokens, max - 1).join("")}…`;
}

function takeTail(tokens: readonly string[], max: number, textContinues: boolean): string {
  const reversed = [...tokens].reverse();
  const taken = tokensWithin(reversed, max);
  const truncated = taken.length < tokens.length || textContinues;
  if (!truncated) return taken.reverse().join("");
  if (max < 1) return "";
  return `…${tokensWithin(reversed, max - 1)
    .reverse()
    .join("")}`;
}

function tokensWithin(tokens: readonly string[], max: number): string[] {
  const taken: string[] = [];
  let width = 0;
  for (const token of tokens) {
    if (width + token.length > max) break;
    taken.push(token);
    width += token.length;
  }
  return taken;
}
