import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AuthService } from "../services/auth-service.js";

/**
 * The CLI acts as the embedded database's local owner through a personal API token kept in the data
 * directory (mode 0600, beside the database it guards). `fineflow serve` makes sure it exists, so CLI
 * commands can reach a running server with it.
 */
const tokenPath = (dataDir: string) => join(dataDir, "cli-token");

export function readCliToken(dataDir: string): string | undefined {
  try {
    return readFileSync(tokenPath(dataDir), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function ensureCliToken(dataDir: string, auth: AuthService): Promise<string> {
  const existing = readCliToken(dataDir);
  if (existing && (await auth.userForApiToken(existing))?.isLocalOwner) return existing;
  const owner = await auth.ensureLocalOwner();
  const { token } = await auth.createApiToken({ userId: owner.id }, { name: "fineflow CLI (embedded)" });
  writeFileSync(tokenPath(dataDir), `${token}\n`, { mode: 0o600 });
  return token;
}
