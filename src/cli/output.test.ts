import { describe, expect, it } from "vitest";
import { displayWidth, excerpt, formatTable, printable, shellWord } from "./output.js";

describe("displayWidth", () => {
  it("counts wide characters as two columns and combining marks as none", () => {
    expect(displayWidth("guide.md")).toBe(8);
    expect(displayWidth("会議の記録.md")).toBe(13);
    expect(displayWidth("설치 안내")).toBe(9);
    expect(displayWidth("Ｆｕｌｌ")).toBe(8);
    expect(displayWidth("cafe\u0301")).toBe(4);
    expect(displayWidth("ok 👍")).toBe(5);
    expect(displayWidth("🚀 ship")).toBe(7);
    expect(displayWidth("👩\u200d💻")).toBe(4);
    expect(displayWidth("한".normalize("NFD"))).toBe(2);
  });
});

describe("formatTable", () => {
  it("lines columns up by the columns their cells take, not by their length", () => {
    const table = formatTable([
      { name: "会議/議事録.md", status: "ready" },
      { name: "notes.md", status: "failed" },
    ]);
    expect(table).toBe(
      ["NAME            STATUS", "会議/議事録.md  ready", "notes.md        failed"].join("\n"),
    );
  });

  it("writes a cell's control characters as escapes, so that each row stays one line and in line", () => {
    const table = formatTable([
      { file: "docs/new\nline.md", status: "ready" },
      { file: "docs/tab\there.md", status: "ready" },
    ]);
    expect(table).toBe(
      ["FILE               STATUS", "docs/new\\nline.md  ready", "docs/tab\\there.md  ready"].join("\n"),
    );
  });

  it("gives nothing for no rows", () => {
    expect(formatTable([])).toBeUndefined();
  });
});

describe("printable", () => {
  it("writes control characters as escapes and leaves the rest as it is", () => {
    expect(printable("new\nline\r\ttab.md")).toBe("new\\nline\\r\\ttab.md");
    expect(printable("\x1b[31mred\x7f\u009b.md")).toBe("\\u001b[31mred\\u007f\\u009b.md");
    expect(printable("会議/议事录 ✓ \\ 👩\u200d💻.md")).toBe("会議/议事录 ✓ \\ 👩\u200d💻.md");
  });
});

describe("excerpt", () => {
  it("puts text on one line and cuts it to the length asked, counting characters, not UTF-16 units", () => {
    expect(excerpt("How do\n\nrefunds   work?")).toBe("How do refunds work?");
    expect(excerpt("a".repeat(60))).toBe("a".repeat(60));
    expect(excerpt("a".repeat(61))).toBe(`${"a".repeat(57)}...`);
    // An emoji is one character of two code units: never cut in half.
    expect(excerpt(`${"😀".repeat(10)}`, 8)).toBe(`${"😀".repeat(5)}...`);
  });
});

describe("shellWord", () => {
  it("leaves a plain name as it is and quotes one a shell would split or expand", () => {
    expect(shellWord("d1")).toBe("d1");
    expect(shellWord("docs/v1.2_final")).toBe("docs/v1.2_final");
    expect(shellWord("my dataset")).toBe("'my dataset'");
    expect(shellWord("Ana's $HOME")).toBe(`'Ana'\\''s $HOME'`);
    expect(shellWord("")).toBe("''");
  });
});
