/**
 * Which legacy charset, if any, a text that is not UTF-8 was saved in, of those that editors on Japanese,
 * Chinese, Korean and Cyrillic systems saved plain text in, without a byte order mark or any label:
 * Shift_JIS or EUC-JP, GBK/GB18030 or Big5, EUC-KR, Windows-1251. Read as Windows-1252 instead, every
 * character became one or two accented Latin letters.
 *
 * Each charset's decoding is tried strictly and scored by how much of its non-ASCII text is what that
 * language's text is made of: kana for Japanese, its most frequent syllables for Korean, its most frequent
 * characters for Chinese, words all in Cyrillic letters for Windows-1251. The same bytes read in the wrong
 * one of these charsets, or a Western European text read in any of them, decode to rare characters,
 * letters of two scripts in one word, or fail; Western text fails the double-byte charsets most often, as
 * an accented letter followed by a space or a full stop is no valid double-byte character.
 */

/** Kana exist only in Japanese, and make up a third or more of most Japanese text. */
const isKana = (code: number) => code >= 0x3040 && code <= 0x30ff;

/** CJK punctuation and full-width forms: in every one of the three languages' text, in no European one. */
const isCjkPunctuation = (code: number) =>
  (code >= 0x3000 && code <= 0x303f) || (code >= 0xff01 && code <= 0xff5e);

// About 140 of the most frequent syllables of Korean text, its particles and endings (이 다 는 의 에 을
// 하 고 습 니) first: they make up most of a Korean text. The syllables a wrong charset's bytes land on,
// any of the 2,350 EUC-KR has, seldom are among them.
const KOREAN_SYLLABLES = new Set(
  "이다의는에을를하고가서지리기도로한사자시어수나게대보있니정요인들해일것그전만제상부주아와경우성과스면장라" +
    "여내적으구은된중화동비세국관소문회모할공개러거미생없었원선위신무마습되며까던데했음께또및더안방법명용결계" +
    "점각실물발설교치통합초행연간처때른래민학진단품알려드립네죠좋겠입같야번말씀분",
);

// About 600 of the most frequent characters of Chinese text, simplified and traditional: they make up most
// of running text. The characters a wrong charset's bytes land on, any of thousands, seldom are among them.
const CHINESE_CHARACTERS = new Set(
  "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后" +
    "作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因" +
    "只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应" +
    "战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿" +
    "原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太" +
    "量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界" +
    "达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今" +
    "切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存" +
    "未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官" +
    "火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历" +
    "首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敢乐怕血紧细" +
    "這個們來國為時對會學後麼經過發還現樣動兩長將實見問機給幾業間點種聲話兒開關無沒從進與東產軍電門頭" +
    "裡體別處總場師書員華報馬張難數車應親務製邊風戰許覺題統請愛讓認論義術結離雖壞興網專讀飛觀爭組視濟",
);

type Telling = (character: string, code: number) => boolean;

/** How much of a text's non-ASCII part is CJK punctuation or `telling` characters, from 0 to 1. */
function score(text: string, telling: Telling): number {
  let nonAscii = 0;
  let hits = 0;
  for (const character of text) {
    const code = character.codePointAt(0) as number;
    if (code < 0x80) continue;
    nonAscii++;
    if (isCjkPunctuation(code) || telling(character, code)) hits++;
  }
  return nonAscii === 0 ? 0 : hits / nonAscii;
}

const japanese: Telling = (_, code) => isKana(code);
const korean: Telling = (character) => KOREAN_SYLLABLES.has(character);
const chinese: Telling = (character) => CHINESE_CHARACTERS.has(character);

/** In the order a tie goes. GB18030 decodes all GBK and GB2312 text, and more. */
const EAST_ASIAN: { label: string; telling: Telling }[] = [
  { label: "shift_jis", telling: japanese },
  { label: "euc-jp", telling: japanese },
  { label: "gb18030", telling: chinese },
  { label: "big5", telling: chinese },
  { label: "euc-kr", telling: korean },
];

/** Words of two or more letters, all Cyrillic: a letter alone proves little (Windows-1251 reads à as а). */
const CYRILLIC_WORD = /(?<!\p{L})\p{Script=Cyrillic}{2,}(?!\p{L})/gu;

/**
 * Of a text's non-ASCII characters, the share in words all of Cyrillic letters. A Western text read as
 * Windows-1251, where every byte is some character, puts its accented letters, now Cyrillic, inside Latin
 * words ("cafй").
 */
function cyrillicShare(text: string): number {
  let nonAscii = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) nonAscii++;
  let hits = 0;
  for (const [word] of text.matchAll(CYRILLIC_WORD)) hits += word.length;
  return nonAscii === 0 ? 0 : hits / nonAscii;
}

/**
 * Below this, no charset is taken. Measured on sample texts: each language's own text in its own charset
 * scored 0.72–0.87 (Russian in Windows-1251, 0.97); the same bytes in another East Asian charset, at most
 * 0.28 (EUC-JP read as Big5); and Western European text, where it decoded at all, 0.
 */
const MIN_SCORE = 0.4;

/** Enough to tell the charset: the rest of a long text would only make the guess slower. */
const SAMPLE_BYTES = 64 * 1024;

/**
 * The TextDecoder label of the legacy charset `bytes` are in, or undefined for none of these. The East
 * Asian ones are asked first: their decoding can fail, which a single-byte one's cannot, and Korean or
 * Chinese text read as Windows-1251 is runs of Cyrillic letters (0.47–0.67 in the samples).
 */
export function legacyCharset(bytes: Uint8Array): string | undefined {
  const sample = bytes.subarray(0, SAMPLE_BYTES);
  let best: { label: string; score: number } | undefined;
  for (const { label, telling } of EAST_ASIAN) {
    let text: string;
    try {
      // Streaming: a sample may end inside a character.
      text = new TextDecoder(label, { fatal: true }).decode(sample, { stream: sample.length < bytes.length });
    } catch {
      continue; // bytes that are no text in this charset
    }
    const share = score(text, telling);
    if (share >= MIN_SCORE && (!best || share > best.score)) best = { label, score: share };
  }
  if (best) return best.label;
  return cyrillicShare(new TextDecoder("windows-1251").decode(sample)) >= MIN_SCORE
    ? "windows-1251"
    : undefined;
}
