// Stage: answers that need no body. A client back before its strict retry-after gets another
// 429; a request whose window is known to be spent gets its 429 without the body being read.

import { earlyRetry } from '../faults';
import { tooManyRequests } from './admit';
import type { Services, Stage } from './exchange';

/**
 * Who a client is, for strict retry-after: `x-client-id` when the client names itself, else its
 * key (clients sharing a key share a deadline).
 */
function clientOf(request: Request, deployment: string): string {
  const id = request.headers.get('x-client-id') ?? request.headers.get('api-key') ?? request.headers.get('authorization') ?? '';
  return `${deployment}\u0000${id}`;
}

export function guard(services: Services): Stage {
  const { limiter, faults } = services;
  return (x, next) => {
    const name = x.deployment.name;
    if (x.faults?.enforceRetryAfter) {
      x.client = clientOf(x.request, name);
      const deadline = faults.retryDeadline(x.client);
      if (deadline !== undefined) throw earlyRetry(deadline - Date.now());
    }
    const early = x.limits && limiter.quickReject(name, x.limits);
    if (early) return tooManyRequests(services, x, early, 1);
    return next(x);
  };
}
