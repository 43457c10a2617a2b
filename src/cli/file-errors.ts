/**
 * A file the user named that cannot be read or written (`import other.jsonl`, `export --out dir/x.jsonl`),
 * said as `ingest` says it; printed with its stack, it read as a bug.
 */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or folder",
  EISDIR: "is a folder, not a file",
  ENOTDIR: "a part of the path is not a folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
};

/** "other.jsonl: no such file or folder", for a file system's error on `path` (or the one it names); else undefined. */
export function fileProblem(
  error: unknown,
  path = (error as NodeJS.ErrnoException).path,
): string | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === undefined ? undefined : REASONS[code];
  return reason && path ? `${path}: ${reason}` : undefined;
}
