// The counter store's outage, found once: after a store call fails or does not answer within the
// timeout, the store is taken as down for OUTAGE_PROBE_MS, so no request waits on it; then one
// call (the probe) tries it again while requests are still judged without it.

// How long an outage is assumed before the store is tried again.
const OUTAGE_PROBE_MS = 1000;

export interface StoreBreaker {
  /** Whether requests at `t` are judged without the store (an outage, or its probe still out). */
  down(t: number): boolean;
  /**
   * `work` bounded by the timeout. Its failure (or timeout) starts an outage. A `probe` call made
   * during an outage is the one that tries the store again, and its success ends the outage.
   */
  guard<T>(work: Promise<T>, probe?: boolean): Promise<T>;
}

export function storeBreaker(options: { now: () => number; timeoutMs: number; onStoreError?: (err: unknown) => void }): StoreBreaker {
  const { now, timeoutMs } = options;
  let outageUntil = 0;
  let probing = false;

  function withTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`rate-limit store did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  return {
    down: (t) => t < outageUntil || probing,
    guard(work, probe = false) {
      const isProbe = probe && outageUntil > 0;
      if (isProbe) probing = true;
      return withTimeout(work)
        .then(
          (value) => {
            if (probe) outageUntil = 0;
            return value;
          },
          (err: unknown) => {
            outageUntil = now() + OUTAGE_PROBE_MS;
            options.onStoreError?.(err);
            throw err;
          },
        )
        .finally(() => {
          if (isProbe) probing = false;
        });
    },
  };
}
