import { type FormEvent, useState } from "react";
import { inTermsOf } from "../../src/core/in-terms-of";

/** A refusal's message as the API says it. */
export const messageOf = (caught: unknown) => (caught as Error).message;

/**
 * A refusal in a form's words: the API names its JSON fields, the form shows labels (`terms`). A message of
 * the list (`messages[1].content`) is named by `messageLabels[1]`, the label of its own field: inTermsOf
 * names a field by its first part only, and every message would be the same "messages".
 */
export function inFormTerms(
  caught: unknown,
  terms: Readonly<Record<string, string>>,
  messageLabels: readonly string[] = [],
): string {
  const message = messageOf(caught).replace(
    /\bmessages\[(\d+)\]\.\w+/g,
    (field, index: string) => messageLabels[Number(index)] ?? field,
  );
  return inTermsOf(message, terms);
}

/**
 * Handles a form's submit: runs `action` with its fields, then empties the form and calls `done` (a reload,
 * say); a refusal goes to `failed`, and the form keeps what was typed so that it can be corrected.
 */
export async function submitForm(
  event: FormEvent<HTMLFormElement>,
  action: (form: FormData) => Promise<unknown>,
  done: () => unknown,
  failed: (error: unknown) => void,
): Promise<void> {
  event.preventDefault();
  const formElement = event.currentTarget;
  try {
    await action(new FormData(formElement));
    formElement.reset();
    await done();
  } catch (caught) {
    failed(caught);
  }
}

/**
 * A form's submit, as `submitForm` does it, keeping the form's own refusal to be shown beside it: one alert at
 * the top of a long page is out of sight of the form that caused it, and the user would see nothing happen.
 * `done` runs after a success, which clears the refusal; `explain` says a refusal in the form's words.
 */
export function useSubmit(done: () => unknown = () => {}, explain: (caught: unknown) => string = messageOf) {
  const [error, setError] = useState("");
  const submit = (event: FormEvent<HTMLFormElement>, action: (form: FormData) => Promise<unknown>) =>
    submitForm(
      event,
      action,
      () => {
        setError("");
        return done();
      },
      (caught) => setError(explain(caught)),
    );
  return { error, submit };
}
