import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import {
  commitRotationSecret,
  resolveEncryptionSecret,
  secretFilePath,
  stagedSecretFilePath,
  stageRotationSecret,
} from "./secret-file.js";

const ENV_SECRET = "an-operator-secret-of-32-characters-or-more";
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fineflow-secret-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string) => statSync(path).mode & 0o777;
const posix = process.platform !== "win32";

describe("the API-key encryption secret", () => {
  it("comes from API_KEY_ENCRYPTION_SECRET when set, writing no file", () => {
    const config = loadConfig({ FINEFLOW_DATA_DIR: dir, API_KEY_ENCRYPTION_SECRET: ENV_SECRET });
    expect(resolveEncryptionSecret(config)).toBe(ENV_SECRET);
    expect(existsSync(secretFilePath(dir))).toBe(false);
  });

  it("is generated once on the embedded database, into secret.key with mode 0600", () => {
    const config = loadConfig({ FINEFLOW_DATA_DIR: dir });
    const secret = resolveEncryptionSecret(config);
    expect(secret).toMatch(/^[\w-]{43}$/);
    if (posix) expect(modeOf(secretFilePath(dir))).toBe(0o600);
    expect(readFileSync(secretFilePath(dir), "utf8").trim()).toBe(secret);
    expect(resolveEncryptionSecret(config)).toBe(secret);
  });

  it.runIf(posix)("refuses a secret.key others can read, naming the file and the fix", () => {
    const config = loadConfig({ FINEFLOW_DATA_DIR: dir });
    resolveEncryptionSecret(config);
    chmodSync(secretFilePath(dir), 0o644);
    expect(() => resolveEncryptionSecret(config)).toThrow(
      `${secretFilePath(dir)} holds the secret that encrypts API keys but other users may read it (mode 644): run \`chmod 600 ${secretFilePath(dir)}\`.`,
    );
  });

  it("refuses a secret.key too short to be a secret", () => {
    writeFileSync(secretFilePath(dir), "short\n", { mode: 0o600 });
    expect(() => resolveEncryptionSecret(loadConfig({ FINEFLOW_DATA_DIR: dir }))).toThrow(/at least 32/);
  });

  it("is required in server mode, by name", () => {
    const config = loadConfig({ FINEFLOW_DATA_DIR: dir, DATABASE_URL: "postgres://db.example.com/ff" });
    expect(() => resolveEncryptionSecret(config)).toThrow(/API_KEY_ENCRYPTION_SECRET must be set/);
    expect(existsSync(secretFilePath(dir))).toBe(false);
  });
});

describe("rotating the embedded secret on disk", () => {
  it("stages the new secret beside the old, resumes the same one, and renames it into place", () => {
    const config = loadConfig({ FINEFLOW_DATA_DIR: dir });
    const old = resolveEncryptionSecret(config);
    const next = stageRotationSecret(dir, ENV_SECRET);
    expect(next).toBe(ENV_SECRET);
    if (posix) expect(modeOf(stagedSecretFilePath(dir))).toBe(0o600);
    expect(resolveEncryptionSecret(config)).toBe(old); // still the old one until committed

    // An interrupted rotation resumes with the staged secret, and refuses to start another.
    expect(stageRotationSecret(dir)).toBe(ENV_SECRET);
    expect(stageRotationSecret(dir, ENV_SECRET)).toBe(ENV_SECRET);
    expect(() => stageRotationSecret(dir, `${ENV_SECRET}-other`)).toThrow(/interrupted rotation/);

    commitRotationSecret(dir);
    expect(existsSync(stagedSecretFilePath(dir))).toBe(false);
    expect(resolveEncryptionSecret(config)).toBe(ENV_SECRET);
    if (posix) expect(modeOf(secretFilePath(dir))).toBe(0o600);
  });

  it("generates the new secret when none is given", () => {
    const staged = stageRotationSecret(dir);
    expect(staged).toMatch(/^[\w-]{43}$/);
    expect(stageRotationSecret(dir)).toBe(staged);
  });
});
