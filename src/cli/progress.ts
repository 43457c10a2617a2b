/**
 * Progress for long commands: a bar redrawn in place on a terminal, plain lines otherwise (logs, pipes,
 * `--json`, where they go to stderr so stdout stays machine-readable).
 */
export interface Progress {
  update(done: number, total: number, label: string): void;
  /** A line that stays, e.g. one file's outcome. */
  log(line: string): void;
  finish(): void;
}

const BAR_WIDTH = 24;

export function createProgress(options: { json?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? (options.json ? process.stderr : process.stdout);
  if (!stream.isTTY || options.json) {
    return {
      update: () => {},
      log: (line) => stream.write(`${line}\n`),
      finish: () => {},
    };
  }
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
      stream.write(`${line}\n`);
    },
    finish: clear,
  };
}
