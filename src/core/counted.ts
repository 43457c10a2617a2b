/** "1 chunk", "2 chunks": a count and its noun, for the CLI's lines and the web app alike. */
export const counted = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;
