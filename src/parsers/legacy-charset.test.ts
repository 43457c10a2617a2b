import { describe, expect, it } from "vitest";
import { legacyCharset } from "./legacy-charset.js";
import { parseDocument } from "./parse-document.js";

// Node can encode only UTF-8 and UTF-16, so each text is given with its bytes in its charset, as Python's
// codecs write them (`text.encode("shift_jis").hex()`).
const SAMPLES = [
  {
    charset: "shift_jis",
    text: "会議の議事録\n\n来週の会議では、新しい製品の販売計画について話し合います。資料は前日までに共有してください。",
    hex: "89ef8b6382cc8b638e96985e0a0a97888f5482cc89ef8b6382c582cd8141905682b582a290bb956982cc94cc94848c7689e682c982c282a282c4986282b58d8782a282dc82b781428e9197bf82cd914f93fa82dc82c582c98ba4974c82b582c482ad82be82b382a28142",
  },
  {
    charset: "euc-jp",
    text: "駅から歩いて十分ほどのところに、小さな図書館があります。子どもたちは放課後によくそこで本を読んでいます。",
    hex: "b1d8a4aba4e9cae2a4a4a4c6bdbdcaaca4dba4c9a4cea4c8a4b3a4eda4cba1a2beaea4b5a4cabfdebdf1b4dba4aca4a2a4eaa4dea4b9a1a3bbd2a4c9a4e2a4bfa4c1a4cfcafcb2ddb8e5a4cba4e8a4afa4bda4b3a4c7cbdca4f2c6c9a4f3a4c7a4a4a4dea4b9a1a3",
  },
  {
    charset: "gb18030",
    text: "会议记录\n\n下周的会议将讨论新产品的销售计划。请在会议前一天把资料发给大家，谢谢。",
    hex: "bbe1d2e9bcc7c2bc0a0acfc2d6dcb5c4bbe1d2e9bdabccd6c2dbd0c2b2fac6b7b5c4cffacadbbcc6bbaea1a3c7ebd4dabbe1d2e9c7b0d2bbccecb0d1d7cac1cfb7a2b8f8b4f3bcd2a3acd0bbd0bba1a3",
  },
  {
    charset: "big5",
    text: "會議紀錄\n\n下週的會議將討論新產品的銷售計畫。請在會議前一天把資料寄給大家，謝謝。",
    hex: "b77cc4b3acf6bffd0a0aa455b667aabab77cc4b3b14eb051bdd7b773b2a3ab7eaababe50b0e2ad70b565a143bdd0a662b77cc4b3ab65a440a4d1a7e2b8eaaec6b148b5b9a46aae61a141c1c2c1c2a143",
  },
  {
    charset: "windows-1251",
    text: "Установка сервера\n\nЭтот документ описывает, как установить FineFlow на сервер. Сначала создайте файл настроек, затем проверьте подключение к базе данных. Если возникнут проблемы, обратитесь к администратору — «он поможет».",
    hex: "d3f1f2e0edeee2eae020f1e5f0e2e5f0e00a0addf2eef220e4eeeaf3ece5edf220eeefe8f1fbe2e0e5f22c20eae0ea20f3f1f2e0edeee2e8f2fc2046696e65466c6f7720ede020f1e5f0e2e5f02e20d1ede0f7e0ebe020f1eee7e4e0e9f2e520f4e0e9eb20ede0f1f2f0eee5ea2c20e7e0f2e5ec20eff0eee2e5f0fcf2e520efeee4eaebfef7e5ede8e520ea20e1e0e7e520e4e0ededfbf52e20c5f1ebe820e2eee7ede8eaedf3f220eff0eee1ebe5ecfb2c20eee1f0e0f2e8f2e5f1fc20ea20e0e4ece8ede8f1f2f0e0f2eef0f3209720abeeed20efeeeceee6e5f2bb2e",
  },
  {
    charset: "euc-kr",
    text: "회의록\n\n다음 주 회의에서는 새 제품의 판매 계획에 대해 논의합니다. 자료는 회의 전날까지 공유해 주세요.",
    hex: "c8b8c0c7b7cf0a0ab4d9c0bd20c1d620c8b8c0c7bfa1bcadb4c220bbf520c1a6c7b0c0c720c6c7b8c520b0e8c8b9bfa120b4ebc7d820b3edc0c7c7d5b4cfb4d92e20c0dab7e1b4c220c8b8c0c720c0fcb3afb1eec1f620b0f8c0afc7d820c1d6bcbcbfe42e",
  },
];

const bytesOf = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"));

describe("legacyCharset", () => {
  it.each(SAMPLES)(
    "tells $charset text from the others, and the document reads as written",
    async (sample) => {
      const bytes = bytesOf(sample.hex);
      expect(legacyCharset(bytes)).toBe(sample.charset);
      const [title, body] = sample.text.split("\n\n");
      const blocks = body ? [title, body] : [title];
      expect(await parseDocument("text", bytes)).toEqual(blocks.map((text) => ({ kind: "paragraph", text })));
    },
  );

  it("takes none for Western text, even where its bytes decode as Chinese or Cyrillic", async () => {
    // Every accented letter here is followed by a letter: as GB18030 and Big5, valid double-byte characters.
    const german = bytesOf(
      "4dfc6c6c65722068e474746520d66c2067656b617566742c206162657220c47066656c20776172656e2067fc6e7374696765722e204772f6df65726520dc62756e67656e2066fc7220536368fc6c65722e",
    );
    for (const charset of ["gb18030", "big5"]) {
      expect(new TextDecoder(charset, { fatal: true }).decode(german)).not.toContain("ü");
    }
    expect(legacyCharset(german)).toBeUndefined();
    expect(await parseDocument("text", german)).toEqual([
      {
        kind: "paragraph",
        text: "Müller hätte Öl gekauft, aber Äpfel waren günstiger. Größere Übungen für Schüler.",
      },
    ]);
    expect(legacyCharset(new Uint8Array([0x43, 0x61, 0x66, 0xe9, 0x20, 0x21]))).toBeUndefined();
    // As Windows-1251, à alone is the Cyrillic word "а", and é inside a word makes it half Cyrillic.
    const french = bytesOf(
      "566f696ce02c20e0206269656e74f4742c206ff920ea7465732d766f7573203f20c0206c61206d6169736f6e2c207072e87320647520636166e92e",
    );
    expect(legacyCharset(french)).toBeUndefined();
    const prepositions = bytesOf(
      "c0206c61206d6169736f6e2c20e020706965642c20e02064657578207061732c20e0206d6964692e",
    );
    expect(legacyCharset(prepositions)).toBeUndefined(); // "À la maison, à pied, à deux pas, à midi."
    expect(await parseDocument("text", french)).toEqual([
      { kind: "paragraph", text: "Voilà, à bientôt, où êtes-vous ? À la maison, près du café." },
    ]);
  });

  it("decides on the start of a long text, even where the start ends inside a character", () => {
    const paragraph = bytesOf(SAMPLES[0]?.hex as string);
    const repeated = (prefix: number) => {
      const bytes = new Uint8Array(prefix + paragraph.length * 700).fill(0x20, 0, prefix);
      for (let i = 0; i < 700; i++) bytes.set(paragraph, prefix + i * paragraph.length);
      return bytes;
    };
    // The prefix (none or one space) that puts the 64 KiB mark inside a double-byte character.
    const long = [0, 1].map(repeated).find((bytes) => {
      try {
        new TextDecoder("shift_jis", { fatal: true }).decode(bytes.subarray(0, 64 * 1024));
        return false;
      } catch {
        return true;
      }
    });
    expect(long).toBeDefined();
    expect(legacyCharset(long as Uint8Array)).toBe("shift_jis");
  });
});
