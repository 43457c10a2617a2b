import { useState } from "react";
import { shortId } from "../../src/core/ids";
import { ApiError, api, type Pair, type PairMessage } from "./api";
import { ConfirmDelete } from "./ConfirmDelete";
import { useFocusLater } from "./focus";
import { inFormTerms, messageOf } from "./forms";

/**
 * Each message as its field is labelled (its role), and where a role comes more than once (a conversation),
 * with its place: the API's refusals name messages by their place in the list.
 */
const messageLabels = (messages: PairMessage[]) =>
  messages.map((m, i) =>
    messages.filter((other) => other.role === m.role).length > 1 ? `${m.role} (message ${i + 1})` : m.role,
  );

/** One pair: its id, scores, flags and messages; edited in place, every message's text at once. */
export function PairCard({
  pair,
  locked,
  onChanged,
}: {
  pair: Pair;
  /** The dataset cannot be changed now (it is generating): the actions are disabled, and the page says why. */
  locked: boolean;
  /** Reloads the list once the pair was changed or deleted. */
  onChanged: () => Promise<unknown>;
}) {
  const [draft, setDraft] = useState<PairMessage[]>();
  /** The pair's time when its editing began: a save after it was changed elsewhere is refused, not a silent overwrite. */
  const [editedFrom, setEditedFrom] = useState<string>();
  /** The last action's refusal, said in the card: the top of the page is far from most cards. */
  const [error, setError] = useState("");
  const [editButton, focusEditButton] = useFocusLater<HTMLButtonElement>();
  const id = shortId(pair.id);

  /** Runs an action on the pair: done, `then` runs and the list reloads; refused, the card says why. */
  async function act(action: () => Promise<unknown>, then = () => {}, explain = messageOf) {
    try {
      await action();
    } catch (caught) {
      setError(explain(caught));
      return;
    }
    setError("");
    then();
    await onChanged();
  }

  /**
   * Saves the draft over the pair as its editing found it. Changed elsewhere since, it is refused; the card
   * then says what the pair holds now, and a second Save is a deliberate overwrite of that.
   */
  async function save() {
    try {
      await api("PATCH", `/api/pairs/${pair.id}`, { messages: draft, expectedUpdatedAt: editedFrom });
    } catch (caught) {
      if (!(caught instanceof ApiError && caught.status === 409)) throw caught;
      const current = await api<Pair>("GET", `/api/pairs/${pair.id}`);
      if (current.updatedAt === editedFrom) throw caught;
      setEditedFrom(current.updatedAt);
      const now = current.messages.map((m) => `${m.role}: “${m.content}”`).join(" ");
      throw new Error(
        `This pair was changed elsewhere after you opened it, and nothing was saved. It now reads ${now}. Save again to put yours in its place, or Cancel to keep it.`,
      );
    }
  }

  // The form's buttons go with it: the focus goes back to the Edit that opened it, not to the page.
  const stopEditing = () => {
    focusEditButton();
    setDraft(undefined);
  };
  const cancel = () => {
    setError("");
    stopEditing();
  };

  const facts = [
    `id ${id}`,
    pair.qualityScore === null ? "no quality score" : `quality ${pair.qualityScore.toFixed(2)}`,
    pair.tokenCount === null ? "" : `${pair.tokenCount} tokens`,
    pair.isValid ? "" : "has validation errors",
    pair.status === "rejected" ? `rejected: ${pair.rejectionReason ?? "no reason given"}` : "",
  ].filter(Boolean);

  return (
    // Focusable from the page, for when the pair before it was deleted: the focus then comes here.
    <li aria-label={`Pair: ${pair.messages.find((m) => m.role === "user")?.content ?? id}`} tabIndex={-1}>
      <p className="muted pair-facts">{facts.join(" · ")}</p>
      {draft ? (
        <form
          aria-label={`Edit pair ${id}`}
          onSubmit={(event) => {
            event.preventDefault();
            void act(save, stopEditing, (caught) => inFormTerms(caught, {}, messageLabels(draft)));
          }}
          onKeyDown={(event) => event.key === "Escape" && cancel()}
        >
          {draft.map((message, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a pair's messages never move: their place is who they are
            <label key={i}>
              {message.role}
              <textarea
                value={message.content}
                rows={3}
                onChange={(event) =>
                  setDraft(draft.map((m, j) => (j === i ? { ...m, content: event.target.value } : m)))
                }
              />
            </label>
          ))}
          <p className="actions">
            <button type="submit" disabled={locked}>
              Save
            </button>
            <button type="button" onClick={cancel}>
              Cancel
            </button>
          </p>
          {error && <p role="alert">{error}</p>}
        </form>
      ) : (
        <>
          <dl className="messages">
            {pair.messages.map((message, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a pair's messages never move: their place is who they are
              <div key={i}>
                <dt>{message.role}</dt>
                <dd>{message.content}</dd>
              </div>
            ))}
          </dl>
          <p className="actions">
            <ConfirmDelete
              label={`Delete pair ${id}`}
              question={`Delete pair ${id}?`}
              disabled={locked}
              onDelete={() => act(() => api("DELETE", `/api/pairs/${pair.id}`))}
            >
              <button
                type="button"
                ref={editButton}
                aria-label={`Edit pair ${id}`}
                disabled={locked}
                onClick={() => {
                  setDraft(pair.messages);
                  setEditedFrom(pair.updatedAt);
                }}
              >
                Edit
              </button>
              {pair.status === "rejected" && (
                <button
                  type="button"
                  aria-label={`Restore pair ${id}`}
                  disabled={locked}
                  onClick={() => act(() => api("POST", `/api/pairs/${pair.id}/restore`))}
                >
                  Restore
                </button>
              )}
            </ConfirmDelete>
          </p>
          {error && <p role="alert">{error}</p>}
        </>
      )}
    </li>
  );
}
