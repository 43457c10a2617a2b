/**
 * The pairs each validation rule flags, turned into issues whose messages name them. A structured issue
 * keeps every pair; its message names the first few, which is all a reader can take in.
 */

import { shortId } from "../ids.js";

export interface ValidationIssue {
  code: string;
  severity: "error" | "warning";
  message: string;
  pairIds: string[];
  /** 1-based lines, one per pair id. */
  lines: number[];
}

export interface PairRef {
  id: string;
  line: number;
}

/** Pairs named in a message; the rest are counted ("and 5 more"). */
export const LISTED_PAIRS = 10;

interface Flagged {
  pairIds: string[];
  lines: number[];
  /** Shown after the line, for the listed pairs only ("like line 2"). */
  notes: (string | undefined)[];
  kinds: Set<string>;
}

export class FlaggedPairs {
  private readonly byCode = new Map<string, Flagged>();

  flag(code: string, pair: PairRef, detail: { note?: string; kinds?: readonly string[] } = {}): void {
    const flagged = this.flaggedFor(code);
    flagged.pairIds.push(pair.id);
    flagged.lines.push(pair.line);
    if (flagged.notes.length < LISTED_PAIRS) flagged.notes.push(detail.note);
    for (const kind of detail.kinds ?? []) flagged.kinds.add(kind);
  }

  count(code: string): number {
    return this.byCode.get(code)?.pairIds.length ?? 0;
  }

  /** What the flagged pairs contained, e.g. the kinds of personal data, in the order first seen. */
  kinds(code: string): string[] {
    return [...(this.byCode.get(code)?.kinds ?? [])];
  }

  /** The issue for `code`, or nothing when no pair was flagged; the message is `<headline>: <pairs>`. */
  issue(code: string, severity: ValidationIssue["severity"], headline: string): ValidationIssue | undefined {
    const flagged = this.byCode.get(code);
    if (!flagged) return undefined;
    return {
      code,
      severity,
      message: `${headline}: ${listing(flagged)}`,
      pairIds: [...flagged.pairIds],
      lines: [...flagged.lines],
    };
  }

  private flaggedFor(code: string): Flagged {
    let flagged = this.byCode.get(code);
    if (!flagged) {
      flagged = { pairIds: [], lines: [], notes: [], kinds: new Set() };
      this.byCode.set(code, flagged);
    }
    return flagged;
  }
}

/** "line 4 (id a1b2c3d4…)", "lines 4, 9 (like line 2) and 3 more (ids a1b2c3d4…, c3d4e5f6…)". */
function listing({ pairIds, lines, notes }: Flagged): string {
  const shown = Math.min(LISTED_PAIRS, lines.length);
  const lineList = lines.slice(0, shown).map((line, i) => (notes[i] ? `${line} (${notes[i]})` : `${line}`));
  const more = lines.length > shown ? ` and ${lines.length - shown} more` : "";
  const ids = pairIds.slice(0, shown).map(shortId).join(", ");
  const plural = lines.length > 1;
  return `${plural ? "lines" : "line"} ${lineList.join(", ")}${more} (${plural ? "ids" : "id"} ${ids})`;
}

export function pairs(count: number): string {
  return `${count.toLocaleString("en-US")} ${count === 1 ? "pair" : "pairs"}`;
}
