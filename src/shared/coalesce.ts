/**
 * Per-key coalescing of "bring this up to date" work: while a run for a key is going, every new
 * request shares ONE follow-up run that starts after it (so it sees everything that happened
 * before it was asked for), instead of each starting its own. Ten events for one customer
 * arriving together cost two runs, not ten, and the last one still reads fresh state.
 */
type Coalescer<R> = (key: string, work: () => Promise<R>) => Promise<R>;

export function createCoalescer<R>(): Coalescer<R> {
  const entries = new Map<string, { tail: Promise<R>; queued: Promise<R> | undefined }>();
  return (key, work) => {
    const entry = entries.get(key);
    if (entry?.queued) return entry.queued;
    const previous = entry?.tail ?? Promise.resolve(undefined as R);
    const next: { tail: Promise<R>; queued: Promise<R> | undefined } = { tail: previous, queued: undefined };
    const run = previous
      .catch(() => undefined)
      .then(() => {
        next.queued = undefined; // started: later requests need a run after this one
        return work();
      });
    next.tail = run;
    next.queued = run;
    entries.set(key, next);
    void run
      .catch(() => undefined)
      .finally(() => {
        if (entries.get(key) === next) entries.delete(key);
      });
    return run;
  };
}
