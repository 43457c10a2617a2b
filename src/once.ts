/**
 * `load`'s result, loaded on the first call and shared by every later one. For what most runs never use:
 * the vendors' SDKs (loading them took ~0.3 s of every `fineflow` command's start, and most commands never
 * call a vendor) and the tokenizers' tables.
 */
export function once<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}
