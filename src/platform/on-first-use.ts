/**
 * `load` run once, on the first call, and its result shared by every call after; a failed load
 * is forgotten, so the next call tries again. For what only some calls need — an SDK client, a
 * library one route uses — loaded with `import()`, which infra/bundling.ts puts in a chunk of its
 * own, so a function that never calls it never loads it.
 */
export function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
