import { type FormEvent, useState } from "react";
import { api, type User } from "./api";

export function LoginPage({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const [error, setError] = useState("");

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
      <p className="muted">
        On your own machine, open the one-time link that <code>fineflow serve</code> printed.
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
