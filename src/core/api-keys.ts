import { z } from "zod";
import { KEY_PROVIDERS, type KeyProvider } from "./statuses.js";

/**
 * The inputs of the key store. Messages name the field and what was expected, never the value given:
 * a key pasted in the wrong place must not be echoed back into a terminal, a log or a response.
 */
export const keyProviderSchema = z.enum(KEY_PROVIDERS, {
  error: `must be one of ${KEY_PROVIDERS.join(", ")}`,
});

export const apiKeySchema = z
  .string({ error: "must be a string" })
  .trim()
  // One complaint at a time: an empty key is not also "too short".
  .min(1, { error: "must not be empty", abort: true })
  .regex(/^\S+$/, { error: "must not contain spaces or line breaks", abort: true })
  .min(8, { error: "must be at least 8 characters", abort: true })
  .max(512, "must be at most 512 characters");

export const setApiKeySchema = z.object({ apiKey: apiKeySchema });

/** The seed's `manage-api-keys` request: one endpoint, an action and its arguments. */
export const manageApiKeysSchema = z.discriminatedUnion(
  "action",
  [
    z.object({ action: z.literal("set"), provider: keyProviderSchema, apiKey: apiKeySchema }),
    z.object({ action: z.literal("status") }),
    z.object({ action: z.literal("delete"), provider: keyProviderSchema }),
  ],
  { error: "must be one of set, status, delete" },
);
export type ManageApiKeysInput = z.output<typeof manageApiKeysSchema>;

/** What a key is bound to (the AAD of its ciphertext): a value copied to another row does not decrypt. */
export const keyBinding = (userId: string, provider: KeyProvider) => `${userId}:${provider}`;

/** The only part of a key ever shown again. */
export const lastFour = (apiKey: string) => apiKey.slice(-4);
