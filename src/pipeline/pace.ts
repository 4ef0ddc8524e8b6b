// Stage: how long the answer takes. Starts this request's latency profile (TTFT, per-token, the
// PAYG-like slowdown from the deployment's requests in flight); operations pace their tokens by
// it, and operations not paced by tokens are held until their wait is over.

import { globalProfile, slowdownFactor, type LatencyProfile } from '../pacing/latency';
import { answerAfter } from '../operations/pacing';
import { settle, type Exchange, type Services, type Stage } from './exchange';

export function pace({ config }: Services): Stage {
  /** Requests in flight per deployment (this instance), for the slowdown. */
  const inFlight = new Map<string, number>();

  /** Sets `x.timing`; returns the function that ends this request's in-flight count. */
  function startTiming(x: Exchange): () => void {
    const operation = x.operation!;
    const own = x.deployment.latency;
    const profile: LatencyProfile = Object.assign(
      {},
      globalProfile(config.latency, operation.kind, operation.operationId === 'Transcriptions_Create' ? 'transcriptions' : 'translations'),
      own,
    );
    profile.slowdown = own?.slowdown ?? config.latency.slowdown;
    const name = x.deployment.name;
    const count = (inFlight.get(name) ?? 0) + 1;
    inFlight.set(name, count);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (inFlight.get(name) ?? 1) - 1;
      if (left > 0) inFlight.set(name, left);
      else inFlight.delete(name);
    };
    // latency.full when the answer has been handed over in full (a paced stream's last token);
    // latency.base when it had been generated.
    x.timing = {
      profile,
      factor: slowdownFactor(profile.slowdown, count),
      done: () => {
        release();
        x.observer?.answered(x, 200, x.generatedAt ?? Date.now());
      },
    };
    return release;
  }

  return (x, next) => {
    if (!config.latency.enabled) return next(x);
    const release = startTiming(x);
    const held = (response: Response) => {
      x.generatedAt ??= Date.now();
      const wait = x.operation!.latencyMs?.(x.parsed, x.timing!.profile);
      return wait === undefined ? response : answerAfter(x, wait * x.timing!.factor, () => response);
    };
    try {
      const answer = settle(next(x), held);
      return answer instanceof Promise
        ? answer.catch((err: unknown) => {
            release();
            throw err;
          })
        : answer;
    } catch (err) {
      release();
      throw err;
    }
  };
}
