import { describe, expect, it } from "vitest";
import { createProgress, type ProgressStream } from "./progress.js";

const recorder = (isTTY: boolean) => {
  const written: string[] = [];
  const stream: ProgressStream = { isTTY, write: (text) => written.push(text) };
  return { stream, written };
};

/** A progress off a terminal, on a clock the test moves. */
function plainProgress(options: { json?: boolean; streamIsTTY?: boolean } = {}) {
  const logs = recorder(options.streamIsTTY ?? false);
  const lines = recorder(false);
  let clock = 0;
  const progress = createProgress({
    json: options.json,
    stream: logs.stream,
    lines: lines.stream,
    now: () => clock,
  });
  const wait = (ms: number) => {
    clock += ms;
  };
  return { progress, logs: logs.written, lines: lines.written, wait };
}

describe("createProgress off a terminal", () => {
  it("writes a plain line when the work moves, at most every two seconds, and the final count at once", () => {
    const { progress, logs, lines, wait } = plainProgress();
    progress.update(0, 10, "processed 0 of 10 documents");
    wait(500);
    progress.update(3, 10, "processed 3 of 10 documents");
    wait(1_500);
    progress.update(4, 10, "processed 4 of 10 documents");
    wait(500);
    progress.update(10, 10, "processed 10 of 10 documents");
    expect(lines).toEqual([
      "processed 0 of 10 documents\n",
      "processed 4 of 10 documents\n",
      "processed 10 of 10 documents\n",
    ]);
    expect(logs).toEqual([]);
  });

  it("says where the work stands every 30 seconds while it does not move, so that a log never looks hung", () => {
    const { progress, lines, wait } = plainProgress();
    for (let polls = 0; polls <= 120; polls++) {
      progress.update(1, 2, "processed 1 of 2 documents");
      wait(500);
    }
    expect(lines).toEqual(Array(3).fill("processed 1 of 2 documents\n"));
  });

  it("keeps the lines that stay on their stream, one line each, and no bar even on a terminal with --json", () => {
    const { progress, logs, lines } = plainProgress({ json: true, streamIsTTY: true });
    progress.log("docs/new\nline.md: queued");
    progress.update(0, 1, "processed 0 of 1 documents");
    expect(logs).toEqual(["docs/new\\nline.md: queued\n"]);
    expect(lines).toEqual(["processed 0 of 1 documents\n"]);
  });
});

describe("createProgress on a terminal", () => {
  it("redraws a bar in place and writes no plain line", () => {
    const terminal = recorder(true);
    const lines = recorder(false);
    const progress = createProgress({ stream: terminal.stream, lines: lines.stream });
    progress.update(1, 4, "processed 1 of 4 documents");
    progress.log("tab\there.md: queued");
    progress.finish();
    expect(terminal.written.join("")).toBe(
      `[######..................] 25% processed 1 of 4 documents\r\x1b[2Ktab\\there.md: queued\n`,
    );
    expect(lines.written).toEqual([]);
  });
});
