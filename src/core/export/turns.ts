/**
 * The rules every export format shares: which system text applies to a pair, and the shape of its turns
 * (user first, alternating, assistant last, no empty message). Export and import both check them here, so
 * a file FineFlow writes is always one it reads back.
 */
import type { FieldIssue } from "../errors.js";
import type { PairMessage } from "../generation/types.js";

export interface ResolvedConversation {
  /** Undefined when neither the pair nor the dataset has a non-blank system text. */
  system: string | undefined;
  turns: PairMessage[];
  /** How many messages were taken off the front (0 or 1), so issues can name the caller's indices. */
  offset: number;
}

/**
 * A pair's own leading system message wins over the dataset's prompt, since a user added it by hand for
 * that example. Blank text counts as none: writing `"system": ""` would train on an empty instruction.
 */
export function resolveConversation(
  messages: readonly PairMessage[],
  systemPrompt?: string,
): ResolvedConversation {
  const first = messages[0];
  if (first?.role === "system") {
    const own = isBlank(first.content) ? undefined : first.content;
    return { system: own ?? nonBlank(systemPrompt), turns: messages.slice(1), offset: 1 };
  }
  return { system: nonBlank(systemPrompt), turns: [...messages], offset: 0 };
}

export interface TurnNaming {
  /** The field of the whole list, for issues about the list itself ("messages", "conversations"). */
  list: string;
  /** The field of one turn's role or content, by the index of the turn in the list checked. */
  at(index: number, key: "role" | "content"): string;
  /** The role as the format spells it ("human" in ShareGPT), so the message matches the file. */
  roleName(role: PairMessage["role"]): string;
}

/** The first thing wrong with the turns, named as the format names it; undefined when they are fine. */
export function turnsIssue(turns: readonly PairMessage[], naming: TurnNaming): FieldIssue | undefined {
  if (turns.length === 0) {
    return { field: naming.list, message: "must hold at least one user and one assistant message" };
  }
  for (const [index, turn] of turns.entries()) {
    const expected: PairMessage["role"] = index % 2 === 0 ? "user" : "assistant";
    if (turn.role !== expected) {
      // A system message past the front is the likeliest mistake, and "expected user" alone hides why.
      const hint = turn.role === "system" ? " (a system message may only come first)" : "";
      return {
        field: naming.at(index, "role"),
        message: `expected "${naming.roleName(expected)}", got "${naming.roleName(turn.role)}"${hint}`,
      };
    }
    if (isBlank(turn.content)) return { field: naming.at(index, "content"), message: "must not be empty" };
  }
  if (turns.length % 2 !== 0) {
    return { field: naming.list, message: `must end with an "${naming.roleName("assistant")}" message` };
  }
  return undefined;
}

export function isBlank(text: string | undefined): boolean {
  return text === undefined || text.trim() === "";
}

function nonBlank(text: string | undefined): string | undefined {
  return isBlank(text) ? undefined : text;
}
