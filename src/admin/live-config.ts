// GET/PATCH /++/config: the live configuration in the Python simulator's shape (plus ours), and
// patches to it. A patch is validated in full before anything changes. The configuration is
// always the startup configuration with every accepted patch applied in order, so instances that
// share storage converge on the same state by sharing the list of patches (a Table entity,
// ETag-conditional, re-read every few seconds).

import { findModel, modelNames } from '../catalogue';
import type { Deployment, SimulatorConfig, SimulatorMode } from '../config';
import { configStoreUnavailable } from '../errors';
import { faultsView, FaultConfigError, parseFaults } from '../faults';
import { log } from '../log';
import { LatencyConfigError, parseDeploymentLatency, parseDist, type Dist, type LatencyConfig, type LatencyProfile } from '../pacing/latency';

export class ConfigPatchError extends Error {}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function fail(message: string): never {
  throw new ConfigPatchError(message);
}

function checkKeys(obj: Json, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(`${where ? where + '.' : ''}${key} is not a setting that can be changed (use ${allowed.join(', ')}).`);
  }
}

const LATENCY_KEYS: Record<string, { profile: keyof Omit<LatencyConfig, 'enabled' | 'slowdown'>; field: keyof LatencyProfile }> = {
  open_ai_chat_completions: { profile: 'chat', field: 'perTokenMs' },
  open_ai_completions: { profile: 'completions', field: 'perTokenMs' },
  open_ai_embeddings: { profile: 'embeddings', field: 'perRequestMs' },
  open_ai_translations: { profile: 'translations', field: 'perMiBMs' },
  open_ai_transcriptions: { profile: 'transcriptions', field: 'perMiBMs' },
  open_ai_images: { profile: 'images', field: 'perImageMs' },
};

const DEPLOYMENT_KEYS = ['model', 'tokens_per_minute', 'requests_per_minute', 'embedding_size', 'latency', 'faults'];

/** A new configuration: `config` with `patch` applied. Throws ConfigPatchError naming the field. */
export function applyPatch(config: SimulatorConfig, patch: unknown): SimulatorConfig {
  if (!isObject(patch)) fail('The body must be a JSON object.');
  checkKeys(patch, ['simulator_mode', 'allow_undefined_openai_deployments', 'latency', 'openai_deployments', 'faults'], '');
  const next: SimulatorConfig = { ...config };
  try {
    if ('simulator_mode' in patch) {
      const mode = patch.simulator_mode;
      if (mode !== 'generate' && mode !== 'record' && mode !== 'replay') fail('simulator_mode must be generate, record or replay.');
      if (mode === 'record' && !config.forward.backends.length && !config.forward.table)
        fail('simulator_mode record needs AZURE_OPENAI_ENDPOINT, which is not set.');
      next.mode = mode as SimulatorMode;
    }
    if ('allow_undefined_openai_deployments' in patch) {
      if (typeof patch.allow_undefined_openai_deployments !== 'boolean') fail('allow_undefined_openai_deployments must be true or false.');
      next.allowUndefinedDeployments = patch.allow_undefined_openai_deployments;
    }
    if ('latency' in patch) next.latency = patchLatency(config.latency, patch.latency);
    if ('openai_deployments' in patch) next.deployments = patchDeployments(config.deployments, patch.openai_deployments);
    if ('faults' in patch) next.faults = patch.faults === null ? undefined : parseFaults(patch.faults, 'faults');
  } catch (err) {
    if (err instanceof FaultConfigError || err instanceof LatencyConfigError) fail(err.message);
    throw err;
  }
  return next;
}

function patchDist(current: Dist | undefined, raw: unknown, where: string): Dist {
  if (!isObject(raw)) fail(`${where} must be an object like {"mean": 20, "std_dev": 5}.`);
  checkKeys(raw, ['mean', 'std_dev'], where);
  const merged = { mean: raw.mean ?? current?.mean ?? 0, std_dev: raw.std_dev ?? current?.stdDev ?? 0 };
  return parseDist(merged, where);
}

function patchLatency(current: LatencyConfig, raw: unknown): LatencyConfig {
  if (!isObject(raw)) fail('latency must be an object.');
  checkKeys(raw, ['enabled', 'slowdown', ...Object.keys(LATENCY_KEYS)], 'latency');
  const next: LatencyConfig = { ...current };
  if ('enabled' in raw) {
    if (typeof raw.enabled !== 'boolean') fail('latency.enabled must be true or false.');
    next.enabled = raw.enabled;
  }
  if ('slowdown' in raw) {
    const s = raw.slowdown;
    if (s === null) next.slowdown = undefined;
    else if (
      !isObject(s) ||
      !Number.isInteger(s.concurrency) ||
      (s.concurrency as number) < 1 ||
      (s.factor !== undefined && (typeof s.factor !== 'number' || s.factor < 0))
    ) {
      fail('latency.slowdown must be null or {"concurrency": integer >= 1, "factor": number >= 0}.');
    } else next.slowdown = { concurrency: s.concurrency as number, factor: (s.factor as number | undefined) ?? 1 };
  }
  for (const [key, { profile, field }] of Object.entries(LATENCY_KEYS)) {
    if (!(key in raw)) continue;
    const value = raw[key];
    const where = `latency.${key}`;
    if (!isObject(value)) fail(`${where} must be an object like {"mean": 20, "std_dev": 5}.`);
    const profileNow = { ...current[profile] };
    const { ttft, ...dist } = value;
    if (Object.keys(dist).length) profileNow[field] = patchDist(profileNow[field] as Dist | undefined, dist, where) as never;
    if (ttft !== undefined) {
      if (field !== 'perTokenMs') fail(`${where}.ttft applies to chat and completions only.`);
      profileNow.ttftMs = ttft === null ? undefined : patchDist(profileNow.ttftMs, ttft, `${where}.ttft`);
    }
    next[profile] = profileNow;
  }
  return next;
}

const count = (value: unknown, where: string): number | undefined => {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 0) fail(`${where} must be a whole number >= 0, or null.`);
  return value as number;
};

function patchDeployments(current: ReadonlyMap<string, Deployment>, raw: unknown): Map<string, Deployment> {
  if (!isObject(raw)) fail('openai_deployments must be an object keyed by deployment name.');
  const next = new Map(current);
  for (const [name, change] of Object.entries(raw)) {
    const where = `openai_deployments.${name}`;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) fail(`${where}: a deployment name is 1-64 letters, digits, '.', '_' or '-'.`);
    if (change === null) {
      next.delete(name);
      continue;
    }
    if (!isObject(change)) fail(`${where} must be an object, or null to remove the deployment.`);
    checkKeys(change, DEPLOYMENT_KEYS, where);
    const existing = current.get(name);
    let model = existing?.model;
    if ('model' in change) {
      const modelName = isObject(change.model) ? change.model.name : change.model;
      if (typeof modelName !== 'string') fail(`${where}.model must be a model name.`);
      model = findModel(modelName);
      if (!model) fail(`${where}.model: unknown model '${modelName}'. Known models: ${modelNames().sort().join(', ')}.`);
    }
    if (!model) fail(`${where} is a new deployment: it needs a model.`);
    const deployment: Deployment = { ...(existing ?? { name }), name, model };
    if ('tokens_per_minute' in change) deployment.tokensPerMinute = count(change.tokens_per_minute, `${where}.tokens_per_minute`);
    if ('requests_per_minute' in change) deployment.requestsPerMinute = count(change.requests_per_minute, `${where}.requests_per_minute`);
    if ('embedding_size' in change) {
      deployment.embeddingSize = count(change.embedding_size, `${where}.embedding_size`);
      if (deployment.embeddingSize === 0) fail(`${where}.embedding_size must be at least 1.`);
    }
    if ('latency' in change) {
      deployment.latency =
        change.latency === null ? undefined : parseDeploymentLatency(isObject(change.latency) ? camelKeys(change.latency) : change.latency, where);
    }
    if ('faults' in change) deployment.faults = change.faults === null ? undefined : parseFaults(change.faults, `${where}.faults`);
    next.set(name, deployment);
  }
  return next;
}

const LATENCY_FIELDS: Record<string, string> = {
  ttft_ms: 'ttftMs',
  per_token_ms: 'perTokenMs',
  per_request_ms: 'perRequestMs',
  per_mib_ms: 'perMiBMs',
  per_image_ms: 'perImageMs',
};
/** A deployment's latency block in either the file's camelCase or snake_case. */
const camelKeys = (obj: Json): Json => Object.fromEntries(Object.entries(obj).map(([k, v]) => [LATENCY_FIELDS[k] ?? k, v]));

const distView = (d: Dist | undefined) => (d ? { mean: d.mean, std_dev: d.stdDev } : null);

/** GET /++/config: the Python simulator's keys (simulator_mode, latency, openai_deployments) and ours. */
export function configView(config: SimulatorConfig): Json {
  const latency: Json = { enabled: config.latency.enabled, slowdown: config.latency.slowdown ?? null };
  for (const [key, { profile, field }] of Object.entries(LATENCY_KEYS)) {
    const p = config.latency[profile];
    latency[key] = { ...distView(p[field] as Dist | undefined), ...(field === 'perTokenMs' ? { ttft: distView(p.ttftMs) } : {}) };
  }
  const deployments: Json = {};
  for (const d of config.deployments.values()) {
    deployments[d.name] = {
      model: { name: d.model.name, version: d.model.version },
      tokens_per_minute: d.tokensPerMinute ?? null,
      requests_per_minute: d.requestsPerMinute ?? null,
      embedding_size: d.embeddingSize ?? null,
      latency: d.latency ?? null,
      faults: faultsView(d.faults),
    };
  }
  return {
    simulator_mode: config.mode,
    allow_undefined_openai_deployments: config.allowUndefinedDeployments,
    latency,
    openai_deployments: deployments,
    faults: faultsView(config.faults),
    recording: {
      store: config.storage ? `blob container ${config.recording.container}` : `folder ${config.recording.dir}`,
      autosave: config.recording.autosave,
      time_factor: config.recording.timeFactor,
      match: config.recording.match,
    },
  };
}

/** The shared list of accepted patches: one Table entity, changed only by ETag-conditional writes. */
export interface PatchStore {
  read(): Promise<{ patches: unknown[]; version: string } | undefined>;
  /** Returns the new version, or undefined when another instance wrote first. */
  write(patches: unknown[], ifVersion: string | undefined): Promise<string | undefined>;
}

export interface LiveConfig {
  /** Settles once the shared patches (if any) have been read at start-up. */
  ready: Promise<void>;
  /** Validates `patch` in full, shares it (when there is storage) and applies it. */
  patch(patch: unknown): Promise<void>;
  stop(): void;
}

/**
 * Keeps `config` (changed in place, so every holder sees it) equal to its start-up state with
 * every accepted patch applied in order; `onChange` runs after each application.
 */
export function liveConfig(config: SimulatorConfig, store: PatchStore | undefined, onChange: () => void): LiveConfig {
  const startup: SimulatorConfig = { ...config };
  let patches: unknown[] = [];
  let version: string | undefined;
  const replay = (list: unknown[]) => list.reduce<SimulatorConfig>((current, p) => applyPatch(current, p), startup);

  function apply(list: unknown[]): void {
    Object.assign(config, replay(list));
    patches = list;
    onChange();
  }

  /** Other instances' changes, from storage. */
  async function refresh(): Promise<void> {
    if (!store) return;
    try {
      const stored = await store.read();
      if (!stored || stored.version === version) return;
      apply(stored.patches);
      version = stored.version;
    } catch (err) {
      log.error(`configuration refresh from table ${config.configSync.table} failed: ${(err as Error).message}`);
    }
  }
  const timer = store ? setInterval(refresh, config.configSync.refreshSeconds * 1000) : undefined;
  timer?.unref();

  return {
    ready: refresh(),
    async patch(patch) {
      applyPatch(config, patch); // validate before anything is stored or changed
      if (!store) return apply([...patches, patch]);
      for (let attempt = 1; ; attempt++) {
        try {
          const stored = await store.read();
          const list = [...(stored?.patches ?? []), patch];
          replay(list); // with every other instance's patches too
          const written = await store.write(list, stored?.version);
          if (written !== undefined) {
            apply(list);
            version = written;
            return;
          }
        } catch (err) {
          if (err instanceof ConfigPatchError) throw err;
          throw configStoreUnavailable(`The configuration table ${config.configSync.table} is unavailable: ${(err as Error).message}`);
        }
        if (attempt >= 20) throw configStoreUnavailable('The configuration kept changing under this patch; try again.');
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
      }
    },
    stop: () => clearInterval(timer),
  };
}
