import type { FormEvent } from "react";

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
