import { describe, expect, it } from "vitest";
import { createSecretBox, keyIdOf, SecretBoxError, sealedKeyId, WrongSecretError } from "./secret-box.js";

const SECRET = "a-test-secret-of-at-least-32-characters";
const OTHER = "another-secret-also-32-characters-long";
const KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
const AAD = "4f2a6c1e-0000-4000-8000-000000000001:openai";

/** Flips one byte of a base64url part of a sealed value. */
function tamper(sealed: string, part: number): string {
  const parts = sealed.split(".");
  const bytes = Buffer.from(parts[part] ?? "", "base64url");
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

describe("secret box", () => {
  const box = createSecretBox(SECRET);

  it("round-trips, in the v1.<kid>.<iv>.<tag>.<ct> shape, without the plaintext in it", () => {
    const sealed = box.seal(KEY, AAD);
    expect(sealed).toMatch(/^v1\.[\w-]{11}\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(sealed).not.toContain(KEY);
    expect(sealedKeyId(sealed)).toBe(box.keyId);
    expect(box.open(sealed, AAD)).toBe(KEY);
    expect(box.open(box.seal("ünïcødé 🔑", AAD), AAD)).toBe("ünïcødé 🔑");
  });

  it("uses a random IV: the same plaintext twice gives different ciphertexts", () => {
    const a = box.seal(KEY, AAD);
    const b = box.seal(KEY, AAD);
    expect(a).not.toBe(b);
    expect(a.split(".")[2]).not.toBe(b.split(".")[2]);
    expect(box.open(a, AAD)).toBe(box.open(b, AAD));
  });

  it("refuses a tampered value, whichever part was changed", () => {
    const sealed = box.seal(KEY, AAD);
    for (const part of [2, 3, 4]) {
      expect(() => box.open(tamper(sealed, part), AAD)).toThrow(/integrity check/);
    }
    expect(() => box.open("v1.garbage", AAD)).toThrow(SecretBoxError);
    expect(() => box.open(sealed.replace(/^v1/, "v9"), AAD)).toThrow(/format/);
  });

  it("refuses a value moved to another row (other AAD)", () => {
    const sealed = box.seal(KEY, AAD);
    expect(() => box.open(sealed, AAD.replace("openai", "together"))).toThrow(/copied from another/);
    expect(() => box.open(sealed, "4f2a6c1e-0000-4000-8000-000000000002:openai")).toThrow(SecretBoxError);
  });

  it("names the mismatch and the rotation when opened under another secret, never giving garbage", () => {
    const sealed = box.seal(KEY, AAD);
    const other = createSecretBox(OTHER);
    expect(other.keyId).not.toBe(box.keyId);
    expect(keyIdOf(SECRET)).toBe(box.keyId);
    let caught: unknown;
    try {
      other.open(sealed, AAD);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WrongSecretError);
    const message = (caught as Error).message;
    expect(message).toContain(box.keyId);
    expect(message).toMatch(/API_KEY_ENCRYPTION_SECRET/);
    expect(message).toMatch(/fineflow keys rotate/);
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(OTHER);
  });

  it("needs a secret of 32 characters or more", () => {
    expect(() => createSecretBox("short")).toThrow(/at least 32 characters/);
  });
});
