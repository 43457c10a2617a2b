import { z } from "zod";

/**
 * A user's own OpenAI-compatible chat endpoint for dataset generation (OpenAI, Gemini's OpenAI endpoint,
 * Ollama, vLLM …). Its key is not part of it: it lives encrypted in the key store, as provider `llm`.
 */
export const llmEndpointSchema = z.object({
  baseUrl: z
    .string({ error: "must be a string" })
    .trim()
    .pipe(z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }))
    // Credentials in a URL would be stored and shown in plain text: the key goes to the key store.
    .refine((url) => {
      const parsed = URL.canParse(url) ? new URL(url) : undefined; // unparsable: reported above
      return !parsed || (parsed.username === "" && parsed.password === "");
    }, "must not contain a user name or password: store the key with `fineflow keys set llm`"),
  model: z
    .string({ error: "must be a string" })
    .trim()
    .min(1, "must not be empty")
    .max(200, "must be at most 200 characters"),
});
export type LlmEndpointInput = z.output<typeof llmEndpointSchema>;

/** A base URL as shown back: scheme, host and path, without credentials, query or fragment. */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
