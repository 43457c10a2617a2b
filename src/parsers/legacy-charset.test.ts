import { describe, expect, it } from "vitest";
import { legacyCharset } from "./legacy-charset.js";
import { parseDocument } from "./parse-document.js";

// Node can encode only UTF-8 and UTF-16, so each text is given with its bytes in its charset, as Python's
// codecs (or iconv-lite) write them (`text.encode("shift_jis").hex()`). `charset` is TextDecoder's name for
// what is read.
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
  {
    // Polish
    charset: "windows-1250",
    text: "Kopia zapasowa\n\nPrzed aktualizacją zrób kopię zapasową bazy danych. Jeżeli coś pójdzie źle, przywróć ją poleceniem restore i sprawdź dziennik błędów. Użytkownicy nie muszą się wylogowywać.",
    hex: "4b6f706961207a617061736f77610a0a50727a656420616b7475616c697a61636ab9207a72f362206b6f7069ea207a617061736f77b92062617a792064616e7963682e204a65bf656c6920636f9c2070f36a647a6965209f6c652c2070727a797772f3e6206ab920706f6c6563656e69656d20726573746f72652069207370726177649f20647a69656e6e696b2062b3ea64f3772e2055bf79746b6f776e696379206e6965206d75737ab9207369ea2077796c6f676f77797761e62e",
  },
  {
    // Czech
    charset: "windows-1250",
    text: "Záloha dat\n\nPřed aktualizací si udělejte zálohu databáze. Pokud se něco pokazí, obnovte ji příkazem restore a zkontrolujte protokol chyb. Uživatelé se nemusejí odhlašovat.",
    hex: "5ae16c6f6861206461740a0a50f8656420616b7475616c697a6163ed207369207564ec6c656a7465207ae16c6f6875206461746162e17a652e20506f6b7564207365206eec636f20706f6b617aed2c206f626e6f767465206a692070f8ed6b617a656d20726573746f72652061207a6b6f6e74726f6c756a74652070726f746f6b6f6c20636879622e20559e69766174656ce9207365206e656d7573656aed206f64686c619a6f7661742e",
  },
  {
    // Hungarian, saved as Windows-1250 (the two agree on its letters)
    charset: "iso-8859-2",
    text: "Biztonsági mentés\n\nFrissítés előtt készítsen biztonsági mentést az adatbázisról. Ha valami elromlik, állítsa vissza a restore paranccsal, és nézze meg a hibanaplót. A felhasználóknak nem kell kijelentkezniük.",
    hex: "42697a746f6e73e16769206d656e74e9730a0a4672697373ed74e97320656cf57474206be9737aed7473656e2062697a746f6e73e16769206d656e74e9737420617a206164617462e17a697372f36c2e2048612076616c616d6920656c726f6d6c696b2c20e16c6ced74736120766973737a61206120726573746f726520706172616e636373616c2c20e973206ee97a7a65206d6567206120686962616e61706cf3742e20412066656c6861737a6ee16cf36b6e616b206e656d206b656c6c206b696a656c656e746b657a6e69fc6b2e",
  },
  {
    // Greek, saved as Windows-1253 (the two agree on its lower-case letters)
    charset: "iso-8859-7",
    text: "Αντίγραφο ασφαλείας\n\nΠριν από την ενημέρωση, δημιουργήστε αντίγραφο ασφαλείας της βάσης δεδομένων. Αν κάτι πάει στραβά, επαναφέρετέ το με την εντολή restore και ελέγξτε το αρχείο καταγραφής σφαλμάτων.",
    hex: "c1edf4dfe3f1e1f6ef20e1f3f6e1ebe5dfe1f20a0ad0f1e9ed20e1f0fc20f4e7ed20e5ede7ecddf1f9f3e72c20e4e7ece9eff5f1e3def3f4e520e1edf4dfe3f1e1f6ef20e1f3f6e1ebe5dfe1f220f4e7f220e2dcf3e7f220e4e5e4efecddedf9ed2e20c1ed20eadcf4e920f0dce5e920f3f4f1e1e2dc2c20e5f0e1ede1f6ddf1e5f4dd20f4ef20ece520f4e7ed20e5edf4efebde20726573746f726520eae1e920e5ebdde3eef4e520f4ef20e1f1f7e5dfef20eae1f4e1e3f1e1f6def220f3f6e1ebecdcf4f9ed2e",
  },
  {
    // Turkish
    charset: "windows-1254",
    text: "Yedekleme\n\nGüncellemeden önce veritabanının yedeğini alın. Bir şeyler ters giderse restore komutuyla geri yükleyin ve hata günlüğünü kontrol edin. Kullanıcıların oturumu kapatması gerekmez.",
    hex: "596564656b6c656d650a0a47fc6e63656c6c656d6564656e20f66e63652076657269746162616efd6efd6e2079656465f0696e6920616cfd6e2e2042697220fe65796c65722074657273206769646572736520726573746f7265206b6f6d757475796c6120676572692079fc6b6c6579696e20766520686174612067fc6e6cfcf0fc6efc206b6f6e74726f6c206564696e2e204b756c6c616efd63fd6c6172fd6e206f747572756d75206b617061746d6173fd20676572656b6d657a2e",
  },
  {
    // Hebrew, its vowel points too (ISO-8859-8 has none)
    charset: "windows-1255",
    text: "גיבוי\n\nלפני העדכון, גבו את מסד הנתונים. אם משהו משתבש, שחזרו אותו בעזרת הפקודה restore ובדקו את יומן השגיאות. שָׁלוֹם לְכֻלָּם.",
    hex: "e2e9e1e5e90a0aecf4f0e920e4f2e3ebe5ef2c20e2e1e520e0fa20eef1e320e4f0fae5f0e9ed2e20e0ed20eef9e4e520eef9fae1f92c20f9e7e6f8e520e0e5fae520e1f2e6f8fa20e4f4f7e5e3e420726573746f726520e5e1e3f7e520e0fa20e9e5eeef20e4f9e2e9e0e5fa2e20f9c8d1ece5c9ed20ecc0ebcbecc8cced2e",
  },
  {
    // Russian in KOI8-R, which read as Windows-1251 is Cyrillic letters too, in the wrong order and case
    charset: "koi8-r",
    text: "Резервная копия\n\nПеред обновлением сделайте резервную копию базы данных. Если что-то пойдёт не так, восстановите её командой restore и проверьте журнал ошибок.",
    hex: "f2c5dac5d2d7cec1d120cbcfd0c9d10a0af0c5d2c5c420cfc2cecfd7ccc5cec9c5cd20d3c4c5ccc1cad4c520d2c5dac5d2d7ced5c020cbcfd0c9c020c2c1dad920c4c1ceced9c82e20e5d3ccc920ded4cf2dd4cf20d0cfcac4a3d420cec520d4c1cb2c20d7cfd3d3d4c1cecfd7c9d4c520c5a320cbcfcdc1cec4cfca20726573746f726520c920d0d2cfd7c5d2d8d4c520d6d5d2cec1cc20cfdbc9c2cfcb2e",
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

  it.each([
    {
      language: "Spanish",
      text: "Antes de actualizar, haga una copia de seguridad de la base de datos. Si algo sale mal, restáurela con el comando restore y revise el registro de errores. ¿Los usuarios tienen que cerrar sesión? No.",
      hex: "416e7465732064652061637475616c697a61722c206861676120756e6120636f70696120646520736567757269646164206465206c612062617365206465206461746f732e20536920616c676f2073616c65206d616c2c2072657374e17572656c6120636f6e20656c20636f6d616e646f20726573746f726520792072657669736520656c20726567697374726f206465206572726f7265732e20bf4c6f73207573756172696f73207469656e656e20717565206365727261722073657369f36e3f204e6f2e",
    },
    {
      language: "Italian",
      text: "Prima dell’aggiornamento, esegui un backup del database. Se qualcosa va storto, ripristinalo con il comando restore e controlla il registro degli errori. Gli utenti non devono uscire: è già tutto pronto, perché il servizio resta attivo.",
      hex: "5072696d612064656c6c92616767696f726e616d656e746f2c2065736567756920756e206261636b75702064656c2064617461626173652e205365207175616c636f73612076612073746f72746f2c2072697072697374696e616c6f20636f6e20696c20636f6d616e646f20726573746f7265206520636f6e74726f6c6c6120696c20726567697374726f206465676c69206572726f72692e20476c69207574656e7469206e6f6e206465766f6e6f207573636972653a20e8206769e020747574746f2070726f6e746f2c207065726368e920696c2073657276697a696f2072657374612061747469766f2e",
    },
    {
      language: "Portuguese",
      text: "Antes da atualização, faça uma cópia de segurança da base de dados. Se algo correr mal, restaure-a com o comando restore e verifique o registo de erros. Os utilizadores não precisam de terminar a sessão.",
      hex: "416e74657320646120617475616c697a61e7e36f2c206661e76120756d612063f3706961206465207365677572616ee7612064612062617365206465206461646f732e20536520616c676f20636f72726572206d616c2c2072657374617572652d6120636f6d206f20636f6d616e646f20726573746f7265206520766572696669717565206f207265676973746f206465206572726f732e204f73207574696c697a61646f726573206ee36f20707265636973616d206465207465726d696e617220612073657373e36f2e",
    },
  ])("reads $language text in Windows-1252 as written, not as Central European or Baltic", async (sample) => {
    // è, à and ã are č, ŕ and ă in Windows-1250, ¿ is ż: a wrong guess would show in every sentence.
    const bytes = bytesOf(sample.hex);
    expect(legacyCharset(bytes)).toBeUndefined();
    expect(await parseDocument("text", bytes)).toEqual([{ kind: "paragraph", text: sample.text }]);
  });

  it("reads Ά where each Greek charset has it: Windows-1253's A2 is a quotation mark in ISO-8859-7", async () => {
    const text =
      "Άρθρο 1\n\nΟ παρών κανονισμός ισχύει για όλους τους υπαλλήλους της εταιρείας. Άδεια απουσίας δίνεται μόνο με έγκριση του προϊσταμένου.";
    const windows = bytesOf(
      "a2f1e8f1ef20310a0acf20f0e1f1feed20eae1edefede9f3ecfcf220e9f3f7fde5e920e3e9e120fcebeff5f220f4eff5f220f5f0e1ebebdeebeff5f220f4e7f220e5f4e1e9f1e5dfe1f22e20a2e4e5e9e120e1f0eff5f3dfe1f220e4dfede5f4e1e920ecfcedef20ece520dde3eaf1e9f3e720f4eff520f0f1effaf3f4e1ecddedeff52e",
    );
    // The same text in ISO-8859-7: only its two Ά differ.
    const iso = windows.map((byte) => (byte === 0xa2 ? 0xb6 : byte));
    expect([legacyCharset(windows), legacyCharset(iso)]).toEqual(["windows-1253", "iso-8859-7"]);
    const [title, body] = text.split("\n\n");
    for (const bytes of [windows, iso]) {
      expect(await parseDocument("text", bytes)).toEqual([
        { kind: "paragraph", text: title },
        { kind: "paragraph", text: body },
      ]);
    }
  });

  it("reads Polish Windows-1250 without bytes 0x80–0x9F as Windows-1250: its ą is no š", async () => {
    const text =
      "Proszę o pomoc z bazą danych, nie mogę się połączyć. Dziękuję bardzo za szybką odpowiedz i pomoc, wrócę jutro.";
    const bytes = bytesOf(
      "50726f737aea206f20706f6d6f63207a2062617ab92064616e7963682c206e6965206d6f67ea207369ea20706fb3b9637a79e62e20447a69ea6b756aea20626172647a6f207a6120737a79626bb9206f64706f776965647a206920706f6d6f632c207772f363ea206a7574726f2e",
    );
    expect(legacyCharset(bytes)).toBe("windows-1250");
    expect(await parseDocument("text", bytes)).toEqual([{ kind: "paragraph", text }]);
  });

  it("leaves a short text with a few accented letters in Windows-1252: too little to tell another charset by", async () => {
    // Each of these came out as Shift_JIS, Big5, Baltic or Central European when chardet had the last word.
    for (const text of [
      "Größe",
      "Straße",
      "résumé",
      "Hyvää päivää!",
      "Citroën",
      "Name: José Ñúñez\nCity: Málaga\nRole: Diseñador",
    ]) {
      const bytes = new Uint8Array(Buffer.from(text, "latin1"));
      expect(legacyCharset(bytes)).toBeUndefined();
      expect((await parseDocument("text", bytes))[0]?.text).toBe(text);
    }
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
