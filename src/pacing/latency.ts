// How long generated answers take. Chat and completions: a time to first token (TTFT), then an
// inter-token delay per token; embeddings per request; audio per MiB uploaded; images per image.
// Each is a normal distribution (mean, std dev in ms), sampled once per request. Globals come from
// the Python simulator's variables (same names and meaning); a deployment can override any of them.

import type { OperationKind } from '../catalogue';
import { mathRng, type Rng } from '../random';

export interface Dist {
  mean: number;
  stdDev: number;
}

/** One deployment's (or the globals') timings; absent keys fall back to the globals. */
export interface LatencyProfile {
  /** Chat/completions: before the first token. Absent: one inter-token delay (the Python timing). */
  ttftMs?: Dist;
  /** Chat/completions: each further token. */
  perTokenMs?: Dist;
  /** Embeddings. */
  perRequestMs?: Dist;
  /** Audio, per MiB of upload. */
  perMiBMs?: Dist;
  /** Images, per image. */
  perImageMs?: Dist;
  /** PAYG-like queueing: past this many requests in flight on the deployment (per instance), latency grows. */
  slowdown?: { concurrency: number; factor: number };
}

export interface LatencyConfig {
  enabled: boolean;
  chat: LatencyProfile;
  completions: LatencyProfile;
  embeddings: LatencyProfile;
  translations: LatencyProfile;
  transcriptions: LatencyProfile;
  images: LatencyProfile;
  slowdown?: { concurrency: number; factor: number };
}

export class LatencyConfigError extends Error {}

type Env = Record<string, string | undefined>;

function envDist(env: Env, prefix: string, fallback: Dist): Dist {
  return { mean: envMs(env, `${prefix}_MEAN`, fallback.mean), stdDev: envMs(env, `${prefix}_STD_DEV`, fallback.stdDev) };
}

function envMs(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new LatencyConfigError(`${name} must be a number of milliseconds >= 0; got '${raw}'.`);
  return n;
}

function optionalEnvDist(env: Env, prefix: string): Dist | undefined {
  if (!env[`${prefix}_MEAN`]?.trim()) return undefined;
  return envDist(env, prefix, { mean: 0, stdDev: 0 });
}

/** The Python simulator's variables and defaults, plus TTFT, transcriptions, images and slowdown. */
export function loadLatency(env: Env): LatencyConfig {
  const raw = (env.SIMULATOR_LATENCY ?? 'on').trim().toLowerCase();
  if (!['on', 'off', 'true', 'false', ''].includes(raw)) {
    throw new LatencyConfigError(`SIMULATOR_LATENCY must be on or off; got '${env.SIMULATOR_LATENCY}'.`);
  }
  const translations = envDist(env, 'LATENCY_OPENAI_TRANSLATIONS', { mean: 15000, stdDev: 1000 });
  const concurrency = env.LATENCY_SLOWDOWN_CONCURRENCY?.trim();
  let slowdown: LatencyConfig['slowdown'];
  if (concurrency) {
    const n = Number(concurrency);
    if (!Number.isInteger(n) || n < 1) throw new LatencyConfigError(`LATENCY_SLOWDOWN_CONCURRENCY must be an integer >= 1; got '${concurrency}'.`);
    slowdown = { concurrency: n, factor: envMs(env, 'LATENCY_SLOWDOWN_FACTOR', 1) };
  }
  return {
    enabled: raw !== 'off' && raw !== 'false',
    chat: {
      ttftMs: optionalEnvDist(env, 'LATENCY_OPENAI_CHAT_COMPLETIONS_TTFT'),
      perTokenMs: envDist(env, 'LATENCY_OPENAI_CHAT_COMPLETIONS', { mean: 19, stdDev: 6 }),
    },
    completions: {
      ttftMs: optionalEnvDist(env, 'LATENCY_OPENAI_COMPLETIONS_TTFT'),
      perTokenMs: envDist(env, 'LATENCY_OPENAI_COMPLETIONS', { mean: 15, stdDev: 2 }),
    },
    embeddings: { perRequestMs: envDist(env, 'LATENCY_OPENAI_EMBEDDINGS', { mean: 100, stdDev: 30 }) },
    translations: { perMiBMs: translations },
    transcriptions: { perMiBMs: envDist(env, 'LATENCY_OPENAI_TRANSCRIPTIONS', translations) },
    images: { perImageMs: envDist(env, 'LATENCY_OPENAI_IMAGES', { mean: 8000, stdDev: 1500 }) },
    slowdown,
  };
}

/** A deployment file's `latency` entry; numbers are means with no spread. */
export function parseDeploymentLatency(raw: unknown, where: string): LatencyProfile | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new LatencyConfigError(`${where}: latency must be an object.`);
  const out: LatencyProfile = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'slowdown') {
      const s = value as { concurrency?: unknown; factor?: unknown };
      if (
        !s ||
        typeof s !== 'object' ||
        !Number.isInteger(s.concurrency) ||
        (s.concurrency as number) < 1 ||
        (s.factor !== undefined && (typeof s.factor !== 'number' || s.factor < 0))
      ) {
        throw new LatencyConfigError(`${where}: latency.slowdown needs an integer concurrency >= 1 and an optional factor >= 0.`);
      }
      out.slowdown = { concurrency: s.concurrency as number, factor: (s.factor as number | undefined) ?? 1 };
    } else if (['ttftMs', 'perTokenMs', 'perRequestMs', 'perMiBMs', 'perImageMs'].includes(key)) {
      (out as Record<string, Dist>)[key] = parseDist(value, `${where}: latency.${key}`);
    } else {
      throw new LatencyConfigError(`${where}: unknown latency setting '${key}' (use ttftMs, perTokenMs, perRequestMs, perMiBMs, perImageMs, slowdown).`);
    }
  }
  return out;
}

export function parseDist(value: unknown, where: string): Dist {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return { mean: value, stdDev: 0 };
  const d = value as { mean?: unknown; stdDev?: unknown; std_dev?: unknown };
  const stdDev = d?.stdDev ?? d?.std_dev ?? 0;
  if (!d || typeof d !== 'object' || typeof d.mean !== 'number' || !(d.mean >= 0) || typeof stdDev !== 'number' || !(stdDev >= 0)) {
    throw new LatencyConfigError(`${where} must be milliseconds >= 0, or {"mean": ms, "stdDev": ms}.`);
  }
  return { mean: d.mean, stdDev };
}

/** Which global profile an operation kind uses. */
export function globalProfile(latency: LatencyConfig, kind: OperationKind, audioOperation?: 'translations' | 'transcriptions'): LatencyProfile {
  switch (kind) {
    case 'chat':
      return latency.chat;
    case 'completions':
      return latency.completions;
    case 'embeddings':
      return latency.embeddings;
    case 'audio':
      return audioOperation === 'transcriptions' ? latency.transcriptions : latency.translations;
    case 'images':
      return latency.images;
    default:
      return {};
  }
}

/** A non-negative normal sample. */
export function sample(dist: Dist | undefined, rng: Rng = mathRng): number {
  if (!dist) return 0;
  if (!dist.stdDev) return dist.mean;
  return Math.max(0, dist.mean + dist.stdDev * rng.normal());
}

/** Latency multiplier for a deployment with `inFlight` requests under way. */
export function slowdownFactor(slowdown: LatencyProfile['slowdown'], inFlight: number): number {
  if (!slowdown || inFlight <= slowdown.concurrency) return 1;
  return 1 + (slowdown.factor * (inFlight - slowdown.concurrency)) / slowdown.concurrency;
}
