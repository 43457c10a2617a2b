import { type KeyboardEvent, type ReactNode, useState } from "react";
import { useFocusLater } from "./focus";

/**
 * A Delete that asks first, since what it deletes is gone for good: one click shows the question, with
 * Delete and Cancel; Cancel or Escape puts the focus back on the Delete that asked. While it asks, the
 * other actions (`children`) make way for the question.
 */
export function ConfirmDelete({
  label,
  question,
  disabled,
  onDelete,
  children,
}: {
  /** The first Delete's accessible name, saying what it deletes: "Delete rota.md". */
  label: string;
  /** What is asked: "Delete rota.md and its 3 chunks?". */
  question: ReactNode;
  disabled?: boolean;
  /** Deletes, reporting a failure itself. */
  onDelete: () => Promise<unknown>;
  children?: ReactNode;
}) {
  const [confirming, setConfirming] = useState(false);
  // Disabled while its delete runs, so that a double click deletes once instead of failing the second time on
  // something already gone.
  const [deleting, setDeleting] = useState(false);
  const [deleteButton, focusDeleteButton] = useFocusLater<HTMLButtonElement>();
  const remove = () => {
    setDeleting(true);
    onDelete().finally(() => setDeleting(false));
  };
  const cancel = () => {
    focusDeleteButton();
    setConfirming(false);
  };
  const escapeCancels = (event: KeyboardEvent) => event.key === "Escape" && cancel();
  if (!confirming) {
    return (
      <>
        {children}
        <button
          type="button"
          ref={deleteButton}
          aria-label={label}
          disabled={disabled}
          onClick={() => setConfirming(true)}
        >
          Delete
        </button>
      </>
    );
  }
  return (
    <>
      <span className="name">{question}</span>
      <button type="button" disabled={deleting || disabled} onClick={remove} onKeyDown={escapeCancels}>
        Delete
      </button>
      {/* Focused, so that a second Enter or click where Delete was does not delete by mistake. */}
      {/* biome-ignore lint/a11y/noAutofocus: the question just appeared, and keeping is the safe answer */}
      <button type="button" autoFocus onClick={cancel} onKeyDown={escapeCancels}>
        Cancel
      </button>
    </>
  );
}
