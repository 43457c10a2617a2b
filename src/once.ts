/**
 * `load`'s result, loaded on the first call and shared by every later one. For the vendors' SDKs: loading
 * them took ~0.3 s of every `fineflow` command's start, and most commands never call a vendor.
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}
