/** "1 chunk", "2 chunks": a count and its noun, for the CLI's lines and the web app alike. */
export const counted = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

/** Where a page of a list is: "Showing 21–40 of 45 chunks", or "45 chunks" when the page is all of them. */
export const pageOf = (offset: number, shown: number, total: number, noun: string) =>
  shown === total
    ? counted(total, noun)
    : `Showing ${offset + 1}–${offset + shown} of ${counted(total, noun)}`;
