// Record mode's upstream pool: smooth weighted round-robin over the configured backends
// (src/config/backends.ts parses them), each cooling down after a 429, a 5xx or no answer.

import type { BackendConfig } from '../../config/backends';

export interface Backend extends BackendConfig {
  /** Epoch ms until which it is skipped. */
  coolUntil: number;
  current: number;
}

export interface BackendPool {
  readonly backends: readonly Backend[];
  /**
   * The order to try backends in for one request: the weighted round-robin pick first, then the
   * others that are not cooling down. Empty when every backend is cooling down. A pool of one
   * always offers its backend: there is nowhere else to go, so the upstream answers for itself.
   */
  order(now: number): Backend[];
  cool(backend: Backend, untilMs: number): void;
  /** When the first cooling backend is available again. */
  nextAvailable(): number;
}

export function createBackendPool(configs: readonly BackendConfig[]): BackendPool {
  const backends: Backend[] = configs.map((c) => ({ ...c, coolUntil: 0, current: 0 }));
  return {
    backends,
    order(now) {
      if (backends.length === 1) return [backends[0]];
      const ready = backends.filter((b) => b.coolUntil <= now);
      if (!ready.length) return [];
      // Smooth weighted round-robin (as nginx): spreads a 3:1 split as a a b a, not a a a b.
      let total = 0;
      let best = ready[0];
      for (const b of ready) {
        b.current += b.weight;
        total += b.weight;
        if (b.current > best.current) best = b;
      }
      best.current -= total;
      const start = backends.indexOf(best);
      const rest: Backend[] = [];
      for (let i = 1; i < backends.length; i++) {
        const b = backends[(start + i) % backends.length];
        if (b.coolUntil <= now) rest.push(b);
      }
      return [best, ...rest];
    },
    cool(backend, untilMs) {
      if (backends.length > 1) backend.coolUntil = Math.max(backend.coolUntil, untilMs);
    },
    nextAvailable() {
      return Math.min(...backends.map((b) => b.coolUntil));
    },
  };
}
