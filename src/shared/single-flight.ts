/**
 * Per-key single flight: while a call for a key runs, later calls for the same key share its
 * promise instead of starting their own. That is what keeps 20 simultaneous signups for one
 * developer at one Stripe customer and one subscription within a process.
 */
interface SingleFlight {
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
  readonly inFlight: number;
}

export function createSingleFlight(): SingleFlight {
  const flights = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, work: () => Promise<T>): Promise<T> {
      const existing = flights.get(key);
      if (existing) return existing as Promise<T>;
      const flight = (async () => {
        try {
          return await work();
        } finally {
          flights.delete(key);
        }
      })();
      flights.set(key, flight);
      return flight;
    },
    get inFlight() {
      return flights.size;
    },
  };
}
