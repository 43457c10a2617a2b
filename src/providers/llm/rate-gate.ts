/**
 * Keeps every concurrent call to one endpoint behind a shared pause, so that one 429 (or a response
 * saying no requests remain) holds them all back until the window resets, instead of each caller
 * finding out on its own with another 429.
 */
export class RateGate {
  private resumeAt = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async wait(): Promise<void> {
    for (let delay = this.resumeAt - this.now(); delay > 0; delay = this.resumeAt - this.now()) {
      await this.sleep(delay);
    }
  }

  pauseFor(ms: number): void {
    this.resumeAt = Math.max(this.resumeAt, this.now() + ms);
  }
}

/** OpenAI's reset durations: "1s", "6m0s", "20ms", "1h2m3.5s". */
export function parseResetDuration(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  let total = 0;
  let matched = false;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched = true;
    const n = Number(amount);
    total += unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n * 3_600_000;
  }
  return matched ? total : undefined;
}
