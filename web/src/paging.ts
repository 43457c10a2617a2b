/** How many items a page of a list (chunks, pairs) shows. */
export const PAGE_SIZE = 20;

/**
 * Where a list should go when the page it asked for is past its end (its last items deleted, here or
 * elsewhere): the start of the last page that has items, or the first page when none has. Undefined when
 * the page asked for is within the list, which would otherwise show nothing and no way back.
 */
export function pageWithin(offset: number, total: number): number | undefined {
  if (offset === 0 || offset < total) return undefined;
  return Math.max(0, Math.ceil(total / PAGE_SIZE) - 1) * PAGE_SIZE;
}
