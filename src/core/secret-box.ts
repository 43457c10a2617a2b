import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { AppError } from "./errors.js";

/**
 * Authenticated encryption of small secrets (provider API keys) at rest: AES-256-GCM, a random 12-byte IV
 * per value, the AES key derived from the operator's secret with HKDF-SHA256. A sealed value reads
 * `v1.<kid>.<iv>.<tag>.<ct>` (base64url parts): the key id names the secret it was sealed under, so a
 * wrong secret is told apart from a damaged value and an interrupted rotation knows what is left to do.
 * Callers bind each value to where it is stored with `aad` (additional authenticated data): a value
 * copied elsewhere does not open.
 */
export interface SecretBox {
  /** Short, non-secret id of this box's secret (derived with HMAC; reveals nothing about the secret). */
  readonly keyId: string;
  seal(plaintext: string, aad: string): string;
  /** Throws `SecretBoxError`: `WrongSecretError` when the value was sealed under another secret. */
  open(sealed: string, aad: string): string;
}

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
// Fixed, public labels: they separate this use of the secret from any other (domain separation).
const HKDF_SALT = "fineflow/secret-box/v1";
const HKDF_INFO = "aes-256-gcm api keys";
const KEY_ID_LABEL = "fineflow/secret-box/v1 key id";

/** A value that cannot be opened. Messages never include the value, the plaintext or the secret. */
export class SecretBoxError extends AppError {
  constructor(message: string) {
    super("internal_error", message);
  }
}

/** The value was sealed under another secret than the one configured. */
export class WrongSecretError extends SecretBoxError {
  constructor(
    readonly sealedKeyId: string,
    readonly currentKeyId: string,
  ) {
    super(
      `A stored API key was encrypted under another secret (key id ${sealedKeyId}; the configured secret's is ${currentKeyId}). ` +
        "If API_KEY_ENCRYPTION_SECRET was changed, set it back, or finish the rotation with `fineflow keys rotate`.",
    );
  }
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

/** The key id a secret's sealed values carry. */
export function keyIdOf(secret: string): string {
  return b64(createHmac("sha256", secret).update(KEY_ID_LABEL).digest().subarray(0, 8));
}

/** The key id a sealed value names, or undefined when it is not a sealed value at all. */
export function sealedKeyId(sealed: string): string | undefined {
  const parts = sealed.split(".");
  return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
}

export function createSecretBox(secret: string): SecretBox {
  if (secret.length < 32) throw new SecretBoxError("The encryption secret must be at least 32 characters.");
  const key = Buffer.from(hkdfSync("sha256", secret, HKDF_SALT, HKDF_INFO, 32));
  const keyId = keyIdOf(secret);

  return {
    keyId,
    seal(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, keyId, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join(".");
    },
    open(sealed, aad) {
      const parts = sealed.split(".");
      const [version, kid, iv, tag, ciphertext] = parts;
      if (parts.length !== 5 || version !== VERSION || !kid || !iv || !tag || ciphertext === undefined) {
        throw new SecretBoxError("A stored API key is not in a format this version of FineFlow reads.");
      }
      if (kid !== keyId) throw new WrongSecretError(kid, keyId);
      const ivBytes = Buffer.from(iv, "base64url");
      const tagBytes = Buffer.from(tag, "base64url");
      if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) {
        throw new SecretBoxError("A stored API key is damaged and cannot be decrypted: set it again.");
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, ivBytes, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(aad, "utf8"));
        decipher.setAuthTag(tagBytes);
        return Buffer.concat([
          decipher.update(Buffer.from(ciphertext, "base64url")),
          decipher.final(),
        ]).toString("utf8");
      } catch {
        throw new SecretBoxError(
          "A stored API key failed its integrity check (altered, or copied from another user or provider): set it again.",
        );
      }
    },
  };
}
