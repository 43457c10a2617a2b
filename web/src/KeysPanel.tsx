import { type FormEvent, useEffect, useState } from "react";
import { type ApiKeyStatus, api } from "./api";

const PROVIDERS = [
  { id: "openai", name: "OpenAI" },
  { id: "together", name: "Together AI" },
] as const;

/** The training providers' keys: whether each is set and its last four characters; a key is never shown back. */
export function KeysPanel() {
  const [keys, setKeys] = useState<ApiKeyStatus[]>([]);
  const [error, setError] = useState("");

  useEffect(() => {
    api<{ keys: ApiKeyStatus[] }>("GET", "/api/keys")
      .then(({ keys }) => setKeys(keys))
      .catch((caught) => setError((caught as Error).message));
  }, []);

  async function save(event: FormEvent<HTMLFormElement>, provider: string) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const apiKey = String(new FormData(formElement).get("apiKey") ?? "");
    // Out of the page before the request goes: the key is not kept anywhere in the DOM.
    formElement.reset();
    try {
      const status = await api<ApiKeyStatus>("PUT", `/api/keys/${provider}`, { apiKey });
      setKeys((current) => [...current.filter((k) => k.provider !== provider), status]);
      setError("");
    } catch (caught) {
      setError((caught as Error).message);
    }
  }

  return (
    <section aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <ul className="keys">
        {PROVIDERS.map(({ id, name }) => {
          const status = keys.find((k) => k.provider === id);
          return (
            <li key={id}>
              <strong>{name}</strong>{" "}
              <span className="muted" data-testid={`key-status-${id}`}>
                {status?.set ? `set (ends in ${status.last4})` : "not set"}
              </span>
              <form onSubmit={(event) => save(event, id)} aria-label={`${name} API key`} className="inline">
                <label>
                  {name} API key
                  <input name="apiKey" type="password" autoComplete="off" required minLength={8} />
                </label>
                <button type="submit">{status?.set ? "Replace key" : "Save key"}</button>
              </form>
            </li>
          );
        })}
      </ul>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
