import { printable } from "./output.js";

/**
 * Progress for long commands: a bar redrawn in place on a terminal; otherwise (logs, pipes, `--json`) a
 * plain line on stderr now and then, so that stdout keeps only the report and a CI log that shows nothing
 * for minutes is not taken for a hung command.
 */
export interface Progress {
  /** Where the work stands; `label` says it with the counts, on the bar and on a plain line alike. */
  update(done: number, total: number, label: string): void;
  /** A line that stays, e.g. one file's outcome; control characters in it are written as escapes. */
  log(line: string): void;
  finish(): void;
}

/** What progress writes to: process.stdout or process.stderr, or a test's stand-in. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

interface ProgressOptions {
  json?: boolean;
  /** Where the lines that stay (and the bar) go: stdout, or stderr with `--json`. */
  stream?: ProgressStream;
  /** Where plain progress lines go when there is no bar. */
  lines?: ProgressStream;
  now?: () => number;
}

const BAR_WIDTH = 24;
/** A plain line when the work moves, but not more often than this: a poll every 500 ms would flood a log. */
const LINE_GAP_MS = 2_000;
/** A plain line at least this often, moved or not: one slow document must not look like a hang. */
const QUIET_MS = 30_000;

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? (options.json ? process.stderr : process.stdout);
  if (stream.isTTY && !options.json) return barProgress(stream);
  return lineProgress(stream, options.lines ?? process.stderr, options.now ?? Date.now);
}

function barProgress(stream: ProgressStream): Progress {
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write("\r\x1b[2K");
    drawn = false;
  };
  return {
    update(done, total, label) {
      const ratio = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(ratio * BAR_WIDTH);
      clear();
      stream.write(
        `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${Math.round(ratio * 100)}% ${label}`,
      );
      drawn = true;
    },
    log(line) {
      clear();
      stream.write(`${printable(line)}\n`);
    },
    finish: clear,
  };
}

/**
 * The label as a line of its own when it changed and the last line is LINE_GAP_MS old (at once when the
 * work is all done, so that a log ends on the final count), and again after QUIET_MS without one.
 */
function lineProgress(stream: ProgressStream, lines: ProgressStream, now: () => number): Progress {
  let last: { label: string; at: number } | undefined;
  return {
    update(done, total, label) {
      const at = now();
      const since = last ? at - last.at : Number.POSITIVE_INFINITY;
      const moved = label !== last?.label && (since >= LINE_GAP_MS || done >= total);
      if (!moved && since < QUIET_MS) return;
      lines.write(`${label}\n`);
      last = { label, at };
    },
    log: (line) => stream.write(`${printable(line)}\n`),
    finish: () => {},
  };
}
