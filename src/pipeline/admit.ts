// Stage: admission. The event's daily cap, injected faults and PTU utilization, then the
// deployment's windows: the request's cost leased from the shared counters, or AOAI's 429.

import { dailyCapReached, rateLimited } from '../errors';
import type { EventIdentity } from '../events/directory';
import { responseHeaders } from '../http';
import type { Admission, DeploymentLimits } from '../limits/limiter';
import { recordedTokens } from '../modes/record-replay';
import { attributes } from '../telemetry/metrics';
import { promptTokensOf, type Exchange, type Next, type Services, type Stage } from './exchange';
import { observeLatency } from './observe';

const DAY_MS = 86_400_000;
const MAX_CACHED_BODIES = 1000;

/** The event's daily cap: one request from a per-event counter for the UTC day, shared by instances. */
export function chargeEventDay({ limiter }: Services): Stage {
  const charge = async (attendee: EventIdentity) => {
    const cap = attendee.event.dailyRequestCap!;
    const admission = await limiter.admit(`event:${attendee.event.code}`, [{ kind: 'requests', windowMs: DAY_MS, limit: cap, amount: 1 }]);
    if (!admission.admitted) throw dailyCapReached(cap, Math.max(1, Math.ceil((admission.retryAfterMs ?? 1000) / 1000)));
  };
  return (x, next) => (x.attendee?.event.dailyRequestCap === undefined ? next(x) : charge(x.attendee).then(() => next(x)));
}

/** The request's cost in tokens: from its parse, or (a replayed request we could not parse) from the recording. */
const costOf = (x: Exchange) => (x.parsedOk ? x.operation!.cost(x.parsed, x) : recordedTokens(x.recorded!));

export function admit(services: Services): Stage {
  const { limiter, faults: state } = services;
  const lease = async (x: Exchange, next: Next, limits: DeploymentLimits) => {
    const charged = (x.charged = costOf(x));
    const admission = await limiter.admit(x.deployment.name, limiter.dimensions(limits, charged));
    if (!admission.admitted) {
      const prompt = promptTokensOf(x);
      if (prompt) services.metrics.tokensRequested.record(prompt, attributes(x.deployment.name, 'token_type', 'prompt'));
      return tooManyRequests(services, x, admission, charged);
    }
    Object.assign(x.headers, admission.headers);
    x.now = admission.now;
    return next(x);
  };
  return (x, next) => {
    const faults = x.faults;
    if (faults) {
      const injected = state.inject(x.deployment.name, faults);
      if (injected) throw injected;
      if (faults.ptu) {
        const ptu = state.ptuAdmit(x.deployment.name, faults.ptu, costOf(x));
        if (ptu.rejection) throw ptu.rejection;
        x.headers['azure-openai-deployment-utilization'] = ptu.header;
      }
      if (faults.cutStreamRate) x.cutStream = (tokens) => state.cutStream(faults, tokens);
    }
    return x.limits ? lease(x, next, x.limits) : next(x);
  };
}

// The 429 is the answer load tests see most: its body depends only on these four values, so it
// is serialised once per combination.
const tooManyBodies = new Map<string, string>();

/** AOAI's 429 for a refused admission, counted in the metrics (and the client's strict retry-after). */
export function tooManyRequests({ metrics, faults }: Services, x: Exchange, admission: Admission, cost: number): Response {
  const name = x.deployment.name;
  const seconds = admission.headers['retry-after'];
  metrics.limits.record(admission.reason === 'tokens' ? cost : 1, attributes(name, 'reason', admission.reason));
  observeLatency(metrics, name, 429, x.startedAt);
  if (x.client) faults.noteRetryAfter(x.client, Number(admission.headers['retry-after-ms']));
  const operationId = x.operation!.operationId;
  const key = `${operationId}|${x.apiVersion}|${admission.reason}|${seconds}`;
  let body = tooManyBodies.get(key);
  if (body === undefined) {
    body = JSON.stringify(rateLimited(operationId, x.apiVersion, admission.reason!, Number(seconds)).body);
    if (tooManyBodies.size >= MAX_CACHED_BODIES) tooManyBodies.clear();
    tooManyBodies.set(key, body);
  }
  return new Response(body, { status: 429, headers: responseHeaders(x.headers, admission.headers, { 'content-type': 'application/json' }) });
}
