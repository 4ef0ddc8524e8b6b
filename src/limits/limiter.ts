// AOAI's admission control over a shared CounterStore.
//
// Windows are fixed and aligned to the clock, as AOAI documents: a deployment's token count
// resets each minute; requests are counted per 10 s (RPM/6) and per 1 s (⌈RPM/60⌉). Models
// without token limits (whisper, dall-e) count requests per minute.
//
// Each instance leases slices ("chunks") of a window from the store and admits locally from its
// lease, so most requests cost no storage operation. Chunks follow the local request rate and
// shrink as the window's remaining budget falls; idle leases are handed back. The store only
// ever grants what is left, so the sum admitted across instances never exceeds a limit.

import type { CounterKey, CounterStore } from './counters';
import { storeBreaker } from './breaker';
import { type Admission, type DeploymentLimits, type Dimension, deploymentDimensions, type LimitKind, OVERSIZE_RETRY_MS } from './windows';

export type { Admission, DeploymentLimits, Dimension, LimitKind } from './windows';
export { OVERSIZE_RETRY_MS, requestLimits } from './windows';

export interface LimiterOptions {
  store: CounterStore;
  now?: () => number;
  /** Check the 1-second request window (default true). */
  oneSecondWindow?: boolean;
  /** When the store fails or is slow: admit ('open', default) or reject ('closed'). */
  failurePolicy?: 'open' | 'closed';
  storeTimeoutMs?: number;
  onStoreError?: (err: unknown) => void;
}

export interface Limiter {
  /** The dimensions a deployment is limited on, or [] when it is not limited. */
  dimensions(limits: DeploymentLimits, tokenCost: number): Dimension[];
  /** Admits or rejects a request against `dimensions`, charging it when admitted. */
  admit(scope: string, dimensions: Dimension[]): Promise<Admission>;
  /** Rejects before any parsing when `scope` is known to be out of requests right now. */
  quickReject(scope: string, limits: DeploymentLimits): Admission | undefined;
  /**
   * This window's use of each dimension across every instance: what the store has granted, less
   * this instance's unspent lease (other instances' idle leases go back within about a second).
   * `shared` is false when the store could not be asked: then the figure is this instance's.
   */
  usage(scope: string, dimensions: Dimension[]): Promise<WindowUsage[]>;
  /** Hands unused leases back to the store (also runs on a timer). */
  release(): Promise<void>;
  stop(): void;
  /** Stops, handing every unused lease back: what this instance leased and did not spend is freed for the others. */
  close(): Promise<void>;
}

export interface WindowUsage {
  kind: LimitKind;
  windowMs: number;
  limit: number;
  used: number;
  /** When this window ends (epoch ms). */
  endsAt: number;
  shared: boolean;
}

// A lease idle this long is handed back so other instances can use it.
const IDLE_RELEASE_MS = 1000;
// After the store says a window is empty, ask again no sooner than this.
const EMPTY_RECHECK_MS = 250;
const MAX_ATTEMPTS = 12;
// Through an outage (limits/breaker.ts) requests are judged without the store: open admits,
// closed answers a 429 to retry in OUTAGE_RETRY_MS.
const OUTAGE_RETRY_MS = 1000;

const counterKey = (scope: string, d: Dimension, windowStart: number): CounterKey => ({
  scope,
  window: `${String(windowStart).padStart(15, '0')}-${d.kind}-${d.windowMs}`,
  expiresAt: windowStart + d.windowMs,
});

interface Lease {
  key: CounterKey;
  limit: number;
  windowStart: number;
  windowEnd: number;
  available: number;
  /** Last known remainder in the store (unknown until the first take). */
  storeRemaining: number | undefined;
  /** The store had nothing left as of this lease's last take: don't ask before this time. */
  emptyUntil: number;
  spent: number;
  lastUse: number;
  pending?: Promise<void>;
}

export function createLimiter(options: LimiterOptions): Limiter {
  const { store } = options;
  const now = options.now ?? Date.now;
  const oneSecond = options.oneSecondWindow ?? true;
  const failOpen = (options.failurePolicy ?? 'open') === 'open';
  const timeoutMs = options.storeTimeoutMs ?? 2000;
  // scope → dimension key (windowMs, and kind in the lowest bit) → lease: numeric keys, so the
  // hot path builds no strings.
  const leases = new Map<string, Map<number, Lease>>();
  const dimensionKey = (kind: LimitKind, windowMs: number) => windowMs * 2 + (kind === 'tokens' ? 1 : 0);

  const dimensions = (limits: DeploymentLimits, tokenCost: number) => deploymentDimensions(limits, tokenCost, oneSecond);

  function leaseFor(scope: string, d: Dimension, t: number): Lease {
    let byScope = leases.get(scope);
    if (!byScope) leases.set(scope, (byScope = new Map()));
    const id = dimensionKey(d.kind, d.windowMs);
    const windowStart = Math.floor(t / d.windowMs) * d.windowMs;
    const stored = byScope.get(id);
    if (stored && stored.windowStart === windowStart) {
      // The limit changed (PATCH /++/config): a window known to be spent may not be any more.
      if (stored.limit !== d.limit) {
        stored.limit = d.limit;
        stored.emptyUntil = 0;
      }
      return stored;
    }
    const lease: Lease = {
      key: counterKey(scope, d, windowStart),
      limit: d.limit,
      windowStart,
      windowEnd: windowStart + d.windowMs,
      available: 0,
      storeRemaining: undefined,
      emptyUntil: 0,
      spent: 0,
      lastUse: t,
    };
    // A finished window's unused lease expires with it (nothing to hand back). A lease for a
    // window older than the stored one is never stored (admit re-judges such requests).
    if (!stored || stored.windowStart < windowStart) byScope.set(id, lease);
    return lease;
  }

  async function usage(scope: string, dims: Dimension[]): Promise<WindowUsage[]> {
    const t = now();
    return Promise.all(
      dims.map(async (d) => {
        const windowStart = Math.floor(t / d.windowMs) * d.windowMs;
        const local = leases.get(scope)?.get(dimensionKey(d.kind, d.windowMs));
        const mine = local && local.windowStart === windowStart ? local : undefined;
        const base = { kind: d.kind, windowMs: d.windowMs, limit: d.limit, endsAt: windowStart + d.windowMs };
        if (!storeDown(t)) {
          try {
            // Taking nothing reads the counter's remainder without changing it.
            const { remaining } = await breaker.guard(store.take(counterKey(scope, d, windowStart), 0, d.limit));
            return { ...base, used: Math.max(0, d.limit - remaining - (mine?.available ?? 0)), shared: true };
          } catch {
            /* judged below from this instance's lease */
          }
        }
        return { ...base, used: mine?.spent ?? 0, shared: false };
      }),
    );
  }

  /** How much to lease: this request's need, plus about 1/10 of a window of the local rate, at most 1/8 of what the store has left. */
  function chunkSize(lease: Lease, d: Dimension, t: number, needed: number): number {
    // In a window's last tenth, lease only what this request needs: a lease unspent when the
    // window ends is lost to every instance.
    if (lease.windowEnd - t <= d.windowMs / 10) return needed;
    const elapsed = Math.max(t - lease.windowStart, d.windowMs / 20);
    const rateTarget = Math.ceil(((lease.spent + d.amount) / elapsed) * (d.windowMs / 10));
    const known = lease.storeRemaining ?? d.limit;
    const cap = Math.max(1, Math.floor(known / 8));
    return Math.max(needed, Math.min(rateTarget, cap));
  }

  // The store's outage, seen once (limits/breaker.ts).
  const breaker = storeBreaker({ now, timeoutMs, onStoreError: options.onStoreError });
  const storeDown = breaker.down;

  function claim(lease: Lease, d: Dimension, t: number): Promise<void> {
    if (!lease.pending) {
      const needed = Math.max(1, d.amount - lease.available);
      const want = chunkSize(lease, d, t, needed);
      // Past an outage's quiet period, this take is the probe: the others do not wait on it.
      lease.pending = breaker
        .guard(store.take(lease.key, want, d.limit), true)
        .then(
          (r) => {
            lease.available += r.granted;
            lease.storeRemaining = r.remaining;
            if (r.remaining === 0) lease.emptyUntil = Math.min(lease.windowEnd, now() + EMPTY_RECHECK_MS);
          },
          () => {
            // Fail open: act as if granted; fail closed: act as if the window were empty.
            if (failOpen) lease.available += needed;
            else lease.emptyUntil = Math.min(lease.windowEnd, now() + 1000);
          },
        )
        .finally(() => {
          lease.pending = undefined;
        });
    }
    return lease.pending;
  }

  /** This instance's view: its unspent lease plus what the store had left at its last take. */
  const remaining = (lease: Lease) => Math.max(0, lease.available + (lease.storeRemaining ?? lease.limit));

  function headersFor(scope: string, dims: Dimension[], t: number): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const d of dims) {
      const lease = leaseFor(scope, d, t);
      if (d.kind === 'tokens') {
        headers['x-ratelimit-limit-tokens'] = String(d.limit);
        headers['x-ratelimit-remaining-tokens'] = String(remaining(lease));
      } else if (!headers['x-ratelimit-limit-requests']) {
        // The first request window is the one AOAI reports (10 s, or the minute for RPM-only models).
        headers['x-ratelimit-limit-requests'] = String(d.limit);
        headers['x-ratelimit-remaining-requests'] = String(remaining(lease));
      }
    }
    return headers;
  }

  function reject(scope: string, dims: Dimension[], blocked: Dimension[], t: number, oversize = false): Admission {
    let retryAfterMs = 0;
    let reason: LimitKind = 'requests';
    for (const d of blocked) {
      const wait = oversize ? OVERSIZE_RETRY_MS : leaseFor(scope, d, t).windowEnd - t;
      if (wait > retryAfterMs || (wait === retryAfterMs && d.kind === 'tokens')) {
        retryAfterMs = wait;
        reason = d.kind;
      }
    }
    // Failing closed through an outage: a short retry, not the window's end.
    if (!oversize && storeDown(t)) retryAfterMs = Math.min(retryAfterMs, OUTAGE_RETRY_MS);
    retryAfterMs = Math.max(1, retryAfterMs);
    const seconds = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    const headers = headersFor(scope, dims, t);
    headers['retry-after'] = seconds;
    headers['retry-after-ms'] = String(retryAfterMs);
    headers[reason === 'tokens' ? 'x-ratelimit-reset-tokens' : 'x-ratelimit-reset-requests'] = seconds;
    headers['policy-id'] = reason === 'tokens' ? 'DeploymentRatelimit-Token' : 'DeploymentRatelimit-Call';
    // A request that can never fit keeps AOAI's day-long retry time, but tells the SDKs not to
    // retry (openai-node and openai-python honour x-should-retry; openai-node would otherwise
    // sleep the whole retry-after-ms).
    if (oversize) headers['x-should-retry'] = 'false';
    return { admitted: false, now: t, headers, reason, retryAfterMs, oversize };
  }

  /** Another request has already moved this scope past t's window for some dimension. */
  const superseded = (scope: string, dims: Dimension[], t: number) =>
    dims.some((d) => (leases.get(scope)?.get(dimensionKey(d.kind, d.windowMs))?.windowStart ?? 0) > Math.floor(t / d.windowMs) * d.windowMs);

  async function admit(scope: string, dims: Dimension[]): Promise<Admission> {
    let t = now();
    const oversized = dims.filter((d) => d.amount > d.limit);
    if (oversized.length) return reject(scope, dims, oversized, t, true);
    // Shortest window first: it is the scarcest, and leasing a longer window's units while a
    // shorter one is spent would strand them here while other instances go without.
    const byWindow = [...dims].sort((a, b) => a.windowMs - b.windowMs);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = now();
      // Judged without the store (also when it failed this request's last take, so one request
      // waits for at most one timeout): nothing is leased or charged; the store is tried again soon.
      if (storeDown(current)) {
        if (!failOpen) return reject(scope, dims, dims, t);
        return { admitted: true, now: t, headers: headersFor(scope, dims, t) };
      }
      // A window ended while this request waited for the store: judge it in the current one.
      if (superseded(scope, dims, t)) t = current;
      const lacking = byWindow.filter((d) => leaseFor(scope, d, t).available < d.amount);
      const blocked = lacking.filter((d) => leaseFor(scope, d, t).emptyUntil > current);
      if (blocked.length) return reject(scope, dims, blocked, t);
      if (lacking.length) {
        await claim(leaseFor(scope, lacking[0], t), lacking[0], t);
        continue;
      }
      for (const d of dims) {
        const lease = leaseFor(scope, d, t);
        lease.available -= d.amount;
        lease.spent += d.amount;
        lease.lastUse = t;
      }
      return { admitted: true, now: t, headers: headersFor(scope, dims, t) };
    }
    // Concurrent requests kept draining the leases: treat as busy for the shortest window.
    return reject(scope, dims, dims.filter((d) => d.kind === 'requests').slice(-1), t);
  }

  function quickReject(scope: string, limits: DeploymentLimits): Admission | undefined {
    const byScope = leases.get(scope);
    if (!byScope) return undefined;
    const t = now();
    const dims = dimensions(limits, 1);
    const blocked = dims.filter((d) => {
      if (d.kind !== 'requests') return false;
      const lease = byScope.get(dimensionKey(d.kind, d.windowMs));
      return (
        lease !== undefined &&
        lease.windowStart === Math.floor(t / d.windowMs) * d.windowMs &&
        lease.limit === d.limit &&
        lease.available < 1 &&
        lease.emptyUntil > t
      );
    });
    return blocked.length ? reject(scope, dims, blocked, t) : undefined;
  }

  async function release(all = false): Promise<void> {
    const t = now();
    const gives: Promise<void>[] = [];
    for (const [scope, byScope] of leases) {
      for (const [id, lease] of byScope) {
        if (lease.windowEnd <= t) {
          byScope.delete(id);
          continue;
        }
        if (lease.available > 0 && !lease.pending && (all || t - lease.lastUse >= IDLE_RELEASE_MS) && lease.windowEnd - lease.windowStart >= 10000) {
          const amount = lease.available;
          lease.available = 0;
          if (lease.storeRemaining !== undefined) lease.storeRemaining += amount;
          gives.push(breaker.guard(store.give(lease.key, amount)).catch(() => undefined));
        }
      }
      if (byScope.size === 0) leases.delete(scope);
    }
    await Promise.all(gives);
  }

  const timer = setInterval(() => {
    void release();
  }, 500);
  timer.unref();

  return {
    dimensions,
    admit,
    usage,
    quickReject,
    release: () => release(),
    stop: () => clearInterval(timer),
    close: () => {
      clearInterval(timer);
      return release(true);
    },
  };
}
