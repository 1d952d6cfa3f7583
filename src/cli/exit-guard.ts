/**
 * A command whose promise is still pending when Node's event loop has nothing left to run can
 * never finish: Node would end it with exit code 13 ("unsettled top-level await") and no word
 * of ours. This says so, names the command and exits 1 instead. Waiting work (e.g. Stripe writes
 * queued behind the write limiter) keeps the loop busy, so this only fires on a bug.
 */
export function untilSettled<T>(command: string, work: Promise<T>, exit: (code: number) => never = (code) => process.exit(code)): Promise<T> {
  const onEmptyLoop = () => {
    process.stderr.write(
      `error: ${command} stopped before its work was done: nothing was left for it to wait on (a bug in portal-monetization; please report it). Running it again is safe: it picks up where this run stopped.\n`,
    );
    exit(1);
  };
  process.on('beforeExit', onEmptyLoop);
  return work.finally(() => process.off('beforeExit', onEmptyLoop));
}
