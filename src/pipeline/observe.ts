// Stage: what the answer was, once it is known: latency (base and full), tokens and 429s in the
// Python simulator's six metrics, and the attendee's usage, for every answer after this stage.

import { AoaiError } from '../errors';
import { attributes, type SimulatorMetrics } from '../telemetry/metrics';
import { promptTokensOf, type Observer, type Services, type Stage } from './exchange';

/** latency.base and latency.full (seconds) for one answer. */
export function observeLatency(metrics: SimulatorMetrics, deployment: string, status: number, startedAt: number, fullAt = Date.now(), baseAt = fullAt): void {
  const attrs = attributes(deployment, 'status_code', status);
  metrics.latencyBase.record((baseAt - startedAt) / 1000, attrs);
  metrics.latencyFull.record((fullAt - startedAt) / 1000, attrs);
}

export function observe(services: Services): Stage {
  const { metrics, faults } = services;
  const observer: Observer = {
    /** An answer handed over in full (a paced stream's last token): latency, tokens, usage. */
    answered(x, status, generatedAt) {
      if (x.observed) return;
      x.observed = true;
      const name = x.deployment.name;
      observeLatency(metrics, name, status, x.startedAt, Date.now(), generatedAt);
      if (status >= 300) return;
      if (x.charged !== undefined) metrics.tokensRateLimit.record(x.charged, attributes(name, undefined));
      const usage = x.usage;
      if (x.attendee) services.events()!.count(x.attendee, usage?.promptTokens ?? 0, usage?.completionTokens ?? 0);
      if (!usage) return;
      for (const [type, n] of [
        ['prompt', usage.promptTokens],
        ['completion', usage.completionTokens],
      ] as const) {
        if (n <= 0) continue;
        metrics.tokensUsed.record(n, attributes(name, 'token_type', type));
        metrics.tokensRequested.record(n, attributes(name, 'token_type', type));
      }
    },
    /** A refusal on the way (400, 408, 429, 5xx...): its latency and the prompt it carried. */
    refused(x, err) {
      if (x.observed) return;
      x.observed = true;
      const name = x.deployment.name;
      const status = err instanceof AoaiError ? err.status : 500;
      observeLatency(metrics, name, status, x.startedAt);
      const prompt = promptTokensOf(x);
      if (prompt) metrics.tokensRequested.record(prompt, attributes(name, 'token_type', 'prompt'));
      if (x.client && err instanceof AoaiError && status === 429) faults.noteRetryAfter(x.client, Number(err.headers['retry-after-ms'] ?? 1000));
    },
  };
  // No wrapping: what follows calls the observer, and the error stage tells it of refusals.
  return (x, next) => {
    x.observer = observer;
    return next(x);
  };
}
