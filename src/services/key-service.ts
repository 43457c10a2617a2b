import { z } from "zod";
import type { Actor } from "../core/actor.js";
import { keyBinding, keyProviderSchema, lastFour, setApiKeySchema } from "../core/api-keys.js";
import { NotFoundError } from "../core/errors.js";
import { createSecretBox, type SecretBox } from "../core/secret-box.js";
import { KEY_PROVIDERS, type KeyProvider } from "../core/statuses.js";
import type { ApiKeysRepository } from "../db/repositories/api-keys-repository.js";
import { parseInput } from "./parse-input.js";

/** What anyone may know about a key: whether it is set, and its last four characters. */
export interface KeyStatus {
  provider: KeyProvider;
  set: boolean;
  last4?: string;
  updatedAt?: Date;
}

export interface RotationResult {
  /** The new secret's key id, which every key is now sealed under. */
  keyId: string;
  reencrypted: number;
  /** Already under the new secret: an earlier, interrupted rotation did them. */
  skipped: number;
}

export interface RotationOptions {
  /** Keys re-encrypted per transaction. */
  batchSize?: number;
  /** Called after each committed batch with the running count (a progress line, a test's interruption). */
  onProgress?: (reencrypted: number, total: number) => void | Promise<void>;
}

const providerInput = z.object({ provider: keyProviderSchema });

/**
 * Users' provider API keys (OpenAI, Together, the generation endpoint), encrypted at rest with the
 * operator's secret. The plaintext goes in through `set` and out only through `reveal`, which other
 * services call at the moment they use a key; no transport exposes `reveal`.
 */
export class KeyService {
  private readonly box: SecretBox;

  constructor(
    private readonly keys: ApiKeysRepository,
    secret: string,
  ) {
    this.box = createSecretBox(secret);
  }

  /** The key id of the secret in use (not secret itself). */
  get keyId(): string {
    return this.box.keyId;
  }

  /** Stores (or replaces) the actor's key for `provider`; answers its status. */
  async set(actor: Actor, provider: string, apiKey: unknown): Promise<KeyStatus> {
    const name = this.provider(provider);
    const key = parseInput(setApiKeySchema, { apiKey }).apiKey;
    const row = await this.keys.upsert(actor, name, {
      keyEncrypted: this.box.seal(key, keyBinding(actor.userId, name)),
      keyLast4: lastFour(key),
    });
    return { provider: name, set: true, last4: row.keyLast4, updatedAt: row.updatedAt };
  }

  /** Every provider, set or not, in KEY_PROVIDERS order. */
  async status(actor: Actor): Promise<KeyStatus[]> {
    const rows = new Map((await this.keys.list(actor)).map((row) => [row.provider, row]));
    return KEY_PROVIDERS.map((provider) => {
      const row = rows.get(provider);
      return row
        ? { provider, set: true, last4: row.keyLast4, updatedAt: row.updatedAt }
        : { provider, set: false };
    });
  }

  async delete(actor: Actor, provider: string): Promise<void> {
    const name = this.provider(provider);
    if (!(await this.keys.delete(actor, name))) throw new NotFoundError("API key", name);
  }

  /** The actor's key in plaintext, for a service about to call the provider; never for a transport. */
  async reveal(actor: Actor, provider: KeyProvider): Promise<string | undefined> {
    const sealed = await this.keys.findSealed(actor, provider);
    return sealed === undefined ? undefined : this.box.open(sealed, keyBinding(actor.userId, provider));
  }

  /**
   * Re-encrypts every user's keys under `newSecret`, a batch per transaction. Resumable: keys already
   * under the new secret are skipped, so running it again after a crash finishes the job. Every process
   * must then use the new secret.
   */
  async rotate(newSecret: string, options: RotationOptions = {}): Promise<RotationResult> {
    const next = createSecretBox(newSecret);
    const prefix = `v1.${next.keyId}.`;
    const skipped = await this.keys.countSealedUnder(prefix);
    const total = (await this.keys.countSealedUnder("")) - skipped;
    let reencrypted = 0;
    for (;;) {
      const done = await this.keys.reseal(prefix, options.batchSize ?? 100, (row) => {
        const aad = keyBinding(row.userId, row.provider);
        return next.seal(this.box.open(row.keyEncrypted, aad), aad);
      });
      if (done === 0) break;
      reencrypted += done;
      await options.onProgress?.(reencrypted, total);
    }
    return { keyId: next.keyId, reencrypted, skipped };
  }

  private provider(provider: string): KeyProvider {
    return parseInput(providerInput, { provider }).provider;
  }
}
