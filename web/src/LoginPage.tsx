import { type FormEvent, useEffect, useState } from "react";
import { api, type User } from "./api";

/**
 * The server sends a browser here with `?signin=expired` when its sign-in link was used or is out of date.
 * The marker is taken off the address once read, so a reload or a later sign-out does not repeat it.
 */
function useLinkRefused(): boolean {
  const [refused] = useState(() => new URLSearchParams(window.location.search).get("signin") === "expired");
  useEffect(() => {
    if (refused) window.history.replaceState(null, "", window.location.pathname + window.location.hash);
  }, [refused]);
  return refused;
}

export function LoginPage({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const [error, setError] = useState("");
  const linkRefused = useLinkRefused();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const { user } = await api<{ user: User }>("POST", "/api/auth/login", {
        email: form.get("email"),
        password: form.get("password"),
      });
      onSignedIn(user);
    } catch (caught) {
      setError((caught as Error).message);
    }
  }

  return (
    <main className="narrow">
      <h1>Sign in to FineFlow</h1>
      {linkRefused && (
        <p role="status">
          That sign-in link was already used or has expired: each link works once, for 15 minutes.
        </p>
      )}
      <p className="muted">
        On your own machine, open the one-time link that <code>fineflow serve</code> printed; for a new one,
        run <code>fineflow signin-link</code> while it runs.
      </p>
      <form onSubmit={submit}>
        <label>
          Email <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit">Sign in</button>
        {error && <p role="alert">{error}</p>}
      </form>
    </main>
  );
}
