// Where rate-limit window counters live. The limiter never reads a counter: it only takes units
// from one (up to the window's limit) and gives unused units back, which is what makes a
// compare-and-swap store (Table Storage) safe to share between instances.

export interface CounterKey {
  /** The limited thing, e.g. a deployment name. */
  scope: string;
  /** One window of one dimension, e.g. `000001795238280000-tokens-60000`. */
  window: string;
  /** When the window is over (epoch ms); stores may forget the counter after it. */
  expiresAt: number;
}

export interface Take {
  /** 0 ≤ granted ≤ want, never past the limit. */
  granted: number;
  /** What is left in the counter after this take. */
  remaining: number;
}

export interface CounterStore {
  readonly name: string;
  /** Atomically takes up to `want` units from the counter, whose capacity is `limit`. */
  take(key: CounterKey, want: number, limit: number): Promise<Take>;
  /** Returns `amount` units taken earlier and not spent. */
  give(key: CounterKey, amount: number): Promise<void>;
  /** Storage operations performed so far (for the benchmark). */
  readonly operations: number;
}

/** In-process counters: the default when no storage is configured (one instance). */
export function memoryCounterStore(): CounterStore {
  const counters = new Map<string, { used: number; expiresAt: number }>();
  let operations = 0;
  let lastPurge = 0;
  const purge = (now: number) => {
    if (now - lastPurge < 10000) return;
    lastPurge = now;
    for (const [k, c] of counters) if (c.expiresAt < now) counters.delete(k);
  };
  const id = (key: CounterKey) => `${key.scope}\u0000${key.window}`;
  return {
    name: 'memory',
    get operations() {
      return operations;
    },
    async take(key, want, limit) {
      operations++;
      purge(Date.now());
      let counter = counters.get(id(key));
      if (!counter) counters.set(id(key), (counter = { used: 0, expiresAt: key.expiresAt }));
      const granted = Math.max(0, Math.min(want, limit - counter.used));
      counter.used += granted;
      return { granted, remaining: Math.max(0, limit - counter.used) };
    },
    async give(key, amount) {
      operations++;
      const counter = counters.get(id(key));
      if (counter) counter.used = Math.max(0, counter.used - amount);
    },
  };
}
