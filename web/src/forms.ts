import { type FormEvent, useState } from "react";

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
 * `done` runs after a success, which clears the refusal.
 */
export function useSubmit(done: () => unknown = () => {}) {
  const [error, setError] = useState("");
  const submit = (event: FormEvent<HTMLFormElement>, action: (form: FormData) => Promise<unknown>) =>
    submitForm(
      event,
      action,
      () => {
        setError("");
        return done();
      },
      (caught) => setError((caught as Error).message),
    );
  return { error, submit };
}
