// Fault injection per deployment: random 500/503s and capacity 429s, a scripted sequence of
// answers, streams cut mid-way, a PTU-style utilization limiter, and strict retry-after (a client
// that comes back early gets another 429). Set in the deployment file (camelCase) or through
// PATCH /++/config (snake_case); state (sequence position, utilization, retry deadlines) is per
// instance.

import { AoaiError } from './errors';
import { mathRng, type Rng } from './random';

export interface FaultConfig {
  /** Fraction (0-1) of requests answered with a server error. */
  errorRate?: number;
  /** Which server errors, picked evenly (default 500 and 503). */
  errorStatuses?: number[];
  /** Fraction (0-1) of requests answered with AOAI's capacity 429 ("high demand"). */
  capacityRate?: number;
  /** Retry time a capacity 429 asks for (default 20 s, as AOAI's message says). */
  capacityRetryAfterSeconds?: number;
  /** The first requests' answers, in order: a status (429, 500, 503, 400, ...) or "ok". */
  sequence?: (number | 'ok')[];
  /** Fraction (0-1) of streams cut mid-way with an error event. */
  cutStreamRate?: number;
  /** Content tokens sent before the cut (default: half the answer). */
  cutAfterTokens?: number;
  /** Provisioned throughput: utilization-based admission instead of TPM/RPM. */
  ptu?: { units: number; tokensPerMinutePerUnit?: number };
  /** A request before its last 429's retry time has passed is refused again. */
  enforceRetryAfter?: boolean;
}

export class FaultConfigError extends Error {}

const FIELDS: Record<keyof FaultConfig, string> = {
  errorRate: 'error_rate',
  errorStatuses: 'error_statuses',
  capacityRate: 'capacity_rate',
  capacityRetryAfterSeconds: 'capacity_retry_after_seconds',
  sequence: 'sequence',
  cutStreamRate: 'cut_stream_rate',
  cutAfterTokens: 'cut_after_tokens',
  ptu: 'ptu',
  enforceRetryAfter: 'enforce_retry_after',
};

/**
 * Validates a fault block, `raw` in camelCase (deployment file) or snake_case (/++/config).
 * `where` prefixes messages so they name the field.
 */
export function parseFaults(raw: unknown, where: string): FaultConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new FaultConfigError(`${where} must be an object.`);
  const out: FaultConfig = {};
  const snakeToCamel = new Map(Object.entries(FIELDS).map(([camel, snake]) => [snake, camel]));
  for (const [key, value] of Object.entries(raw)) {
    const field = (key in FIELDS ? key : snakeToCamel.get(key)) as keyof FaultConfig | undefined;
    const name = `${where}.${key}`;
    if (!field) throw new FaultConfigError(`${name} is not a fault setting (use ${Object.values(FIELDS).join(', ')}).`);
    if (value === null) continue;
    switch (field) {
      case 'errorRate':
      case 'capacityRate':
      case 'cutStreamRate':
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new FaultConfigError(`${name} must be a fraction from 0 to 1.`);
        out[field] = value;
        break;
      case 'capacityRetryAfterSeconds':
      case 'cutAfterTokens':
        if (!Number.isInteger(value) || (value as number) < (field === 'cutAfterTokens' ? 0 : 1))
          throw new FaultConfigError(`${name} must be a whole number${field === 'cutAfterTokens' ? '' : ' >= 1'}.`);
        out[field] = value as number;
        break;
      case 'errorStatuses':
        if (!Array.isArray(value) || !value.length || !value.every((s) => Number.isInteger(s) && s >= 500 && s <= 599)) {
          throw new FaultConfigError(`${name} must be a list of 5xx statuses.`);
        }
        out.errorStatuses = value;
        break;
      case 'sequence':
        if (!Array.isArray(value) || !value.every((s) => s === 'ok' || (Number.isInteger(s) && s >= 400 && s <= 599))) {
          throw new FaultConfigError(`${name} must be a list of statuses (400-599) or "ok".`);
        }
        out.sequence = value;
        break;
      case 'ptu': {
        const p = value as { units?: unknown; tokensPerMinutePerUnit?: unknown; tokens_per_minute_per_unit?: unknown };
        const perUnit = p?.tokensPerMinutePerUnit ?? p?.tokens_per_minute_per_unit;
        if (
          !p ||
          typeof p !== 'object' ||
          typeof p.units !== 'number' ||
          !(p.units > 0) ||
          (perUnit !== undefined && (typeof perUnit !== 'number' || !(perUnit > 0)))
        ) {
          throw new FaultConfigError(`${name} needs units > 0 (and optionally tokens_per_minute_per_unit > 0).`);
        }
        out.ptu = { units: p.units, tokensPerMinutePerUnit: perUnit as number | undefined };
        break;
      }
      case 'enforceRetryAfter':
        if (typeof value !== 'boolean') throw new FaultConfigError(`${name} must be true or false.`);
        out.enforceRetryAfter = value;
        break;
    }
  }
  return out;
}

/** The /++/config view of a fault block. */
export function faultsView(faults: FaultConfig | undefined): Record<string, unknown> | null {
  if (!faults) return null;
  const out: Record<string, unknown> = {};
  for (const [camel, snake] of Object.entries(FIELDS)) {
    const value = faults[camel as keyof FaultConfig];
    if (value === undefined) continue;
    out[snake] = camel === 'ptu' ? { units: faults.ptu!.units, tokens_per_minute_per_unit: faults.ptu!.tokensPerMinutePerUnit ?? DEFAULT_PTU_TPM } : value;
  }
  return out;
}

// gpt-4o's input tokens per minute per PTU (Microsoft's table).
export const DEFAULT_PTU_TPM = 2500;

const SERVER_ERRORS: Record<number, string> = {
  500: 'Internal server error',
  503: 'The engine is currently overloaded, please try again later',
};

export const serverError = (status: number) =>
  new AoaiError(status, { error: { code: String(status), message: SERVER_ERRORS[status] ?? 'The server had an error while processing your request.' } });

export const capacityLimited = (seconds: number) =>
  new AoaiError(
    429,
    {
      error: {
        code: '429',
        message:
          'The system is currently experiencing high demand and cannot process your request. Your request exceeds the ' +
          `maximum usage size allowed during peak load. Please retry after ${seconds} seconds. For improved latency reliability, ` +
          'consider switching to Provisioned Throughput.',
      },
    },
    { 'retry-after': String(seconds), 'retry-after-ms': String(seconds * 1000) },
  );

export const ptuLimited = (ms: number, utilization: string) =>
  new AoaiError(
    429,
    {
      error: {
        code: '429',
        message: `Requests to the deployment have exceeded its provisioned throughput (utilization ${utilization}). Please retry after ${Math.max(1, Math.ceil(ms / 1000))} seconds.`,
      },
    },
    { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))), 'retry-after-ms': String(Math.ceil(ms)), 'azure-openai-deployment-utilization': utilization },
  );

export const earlyRetry = (ms: number) =>
  new AoaiError(
    429,
    {
      error: {
        code: '429',
        message: `This client retried before its retry-after had passed. Please retry after ${Math.max(1, Math.ceil(ms / 1000))} seconds.`,
      },
    },
    { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))), 'retry-after-ms': String(Math.ceil(ms)) },
  );

/** Per-instance fault state for all deployments. */
export interface FaultState {
  /** An AoaiError to answer with instead of serving, or undefined. Call once per valid request. */
  inject(deployment: string, faults: FaultConfig | undefined): AoaiError | undefined;
  /** PTU admission: rejects when utilization is at 100%, else adds `cost`. Returns the utilization header. */
  ptuAdmit(deployment: string, ptu: NonNullable<FaultConfig['ptu']>, cost: number): { header: string; rejection?: AoaiError };
  /** The retry deadline a client was given (strict retry-after). */
  noteRetryAfter(client: string, retryAfterMs: number): void;
  retryDeadline(client: string): number | undefined;
  /** Whether to cut this stream, and after how many content tokens. */
  cutStream(faults: FaultConfig | undefined, tokens: number): number | undefined;
  /** Forget sequences (the fault settings changed). */
  reset(): void;
}

export function createFaultState(rng: Rng = mathRng, now: () => number = Date.now): FaultState {
  const position = new Map<string, number>();
  const utilization = new Map<string, { level: number; at: number }>();
  const deadlines = new Map<string, number>();

  function level(deployment: string, perMs: number, t: number): { level: number; at: number } {
    const u = utilization.get(deployment) ?? { level: 0, at: t };
    u.level = Math.max(0, u.level - (t - u.at) * perMs);
    u.at = t;
    utilization.set(deployment, u);
    return u;
  }

  return {
    inject(deployment, faults) {
      if (!faults) return undefined;
      if (faults.sequence?.length) {
        const i = position.get(deployment) ?? 0;
        if (i < faults.sequence.length) {
          position.set(deployment, i + 1);
          const step = faults.sequence[i];
          if (step === 'ok') return undefined;
          if (step === 429) return capacityLimited(faults.capacityRetryAfterSeconds ?? 20);
          if (step >= 500) return serverError(step);
          return new AoaiError(step, { error: { code: String(step), message: `Injected ${step} (fault sequence step ${i + 1}).` } });
        }
      }
      if (faults.errorRate && rng.next() < faults.errorRate) {
        const statuses = faults.errorStatuses ?? [500, 503];
        return serverError(statuses[rng.int(statuses.length)]);
      }
      if (faults.capacityRate && rng.next() < faults.capacityRate) return capacityLimited(faults.capacityRetryAfterSeconds ?? 20);
      return undefined;
    },
    ptuAdmit(deployment, ptu, cost) {
      const perMinute = ptu.units * (ptu.tokensPerMinutePerUnit ?? DEFAULT_PTU_TPM);
      const perMs = perMinute / 60000;
      const t = now();
      const u = level(deployment, perMs, t);
      const header = (percent: number) => `${Math.round(percent * 10) / 10}%`;
      if (u.level >= perMinute) {
        const waitMs = (u.level - perMinute) / perMs + 1;
        return { header: header((u.level / perMinute) * 100), rejection: ptuLimited(waitMs, header((u.level / perMinute) * 100)) };
      }
      // Short bursts over 100% are allowed, as AOAI documents: the cost lands even if it overshoots.
      u.level += cost;
      return { header: header((u.level / perMinute) * 100) };
    },
    noteRetryAfter(client, retryAfterMs) {
      if (deadlines.size > 10000) deadlines.clear();
      deadlines.set(client, now() + retryAfterMs);
    },
    retryDeadline(client) {
      const deadline = deadlines.get(client);
      if (deadline === undefined) return undefined;
      if (deadline <= now()) {
        deadlines.delete(client);
        return undefined;
      }
      return deadline;
    },
    cutStream(faults, tokens) {
      if (!faults?.cutStreamRate || rng.next() >= faults.cutStreamRate) return undefined;
      return Math.min(tokens, faults.cutAfterTokens ?? Math.floor(tokens / 2));
    },
    reset() {
      position.clear();
      utilization.clear();
      deadlines.clear();
    },
  };
}
