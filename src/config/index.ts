// Environment + deployment JSON → one validated, typed config. The variable names and the
// deployment file format are the Python simulator's, so its users keep their `.env`.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { findModel, modelNames, type ModelInfo } from '../catalogue';
import { type EntraConfig, loadEntra } from './entra';
import { ConfigError } from './errors';
import { loadStorage, type StorageTarget } from './storage';
import { BackendConfigError, parseBackends, type BackendConfig } from './backends';
import { FaultConfigError, parseFaults, type FaultConfig } from '../faults';
import { LatencyConfigError, loadLatency, parseDeploymentLatency, type LatencyConfig, type LatencyProfile } from '../pacing/latency';
import { randomId } from '../random';

export type SimulatorMode = 'generate' | 'record' | 'replay';

export interface Deployment {
  name: string;
  model: ModelInfo;
  /** Absent: not limited (undefined deployments, or a file entry without limits). */
  tokensPerMinute?: number;
  requestsPerMinute?: number;
  embeddingSize?: number;
  /** Overrides of the global latency for this deployment. */
  latency?: LatencyProfile;
  faults?: FaultConfig;
}

export interface SimulatorConfig {
  mode: SimulatorMode;
  apiKey: string;
  /** True when SIMULATOR_API_KEY was unset and a key was generated for this process. */
  apiKeyGenerated: boolean;
  region: string;
  allowUndefinedDeployments: boolean;
  deployments: ReadonlyMap<string, Deployment>;
  /** Length of a chat answer when the request sets no max_tokens. */
  completionTokens: { mean: number; stdDev: number };
  maxRequestBodyBytes: number;
  rateLimits: RateLimitConfig;
  /** Table/Blob storage shared by instances: a connection string, or identity-based service URIs. */
  storage?: StorageTarget;
  recording: RecordingConfig;
  /** Blob container for stored responses (the Responses API), with a storage connection string. */
  responsesContainer: string;
  forward: ForwardConfig;
  latency: LatencyConfig;
  /** Faults for deployments without their own (SIMULATOR_FAULTS, or PATCH /++/config). */
  faults?: FaultConfig;
  /** Event codes (with a storage connection string). */
  events: { table: string; usageTable: string; refreshSeconds: number; maxTokens: 'clamp' | 'reject' };
  /** EXTENSION_PATH: a module exporting initialize(api). */
  extensionPath?: string;
  /** Where instances share /++/config changes (with a storage connection string). */
  configSync: { table: string; refreshSeconds: number };
  /** Inbound Entra ID tokens (ENTRA_AUTH); undefined: only keys and event codes. */
  entra?: EntraConfig;
}

export interface RecordingConfig {
  /** Folder used when no storage connection string is set. */
  dir: string;
  /** Blob container used when one is. */
  container: string;
  autosave: boolean;
  /** How stale the known list of recording files may get before it is re-read. */
  refreshSeconds: number;
  /** Scales recorded waits on replay: 1 as recorded, 0 none. */
  timeFactor: number;
  /** 'exact': body bytes (the Python simulator's match); 'json': canonical JSON as a fallback. */
  match: 'exact' | 'json';
  ignoreFields: string[];
  /** Record mode answers a request it already has a recording for from that recording. */
  replayInRecordMode: boolean;
}

export interface ForwardConfig {
  backends: BackendConfig[];
  timeoutMs: number;
  /**
   * The workshop proxy's backends Table (BACKENDS_TABLE, with storage): active rows of a
   * partition, by the deployment they serve, re-read every refreshSeconds.
   */
  table?: { name: string; partition: string; refreshSeconds: number };
}

export type CostModel = 'aoai' | 'python';

export interface RateLimitConfig {
  /**
   * 'aoai': prompt tokens + (max_tokens ?? defaultMaxTokens) × n, embeddings their input tokens.
   * 'python': the Python simulator's calibration: max_tokens ?? 16, embeddings characters / 4.
   */
  costModel: CostModel;
  defaultMaxTokens: number;
  oneSecondWindow: boolean;
  failurePolicy: 'open' | 'closed';
  storeTimeoutMs: number;
  table: string;
  /** Limits for deployments not in the file; none (unlimited) unless configured. */
  undefinedDeployment: { tokensPerMinute?: number; requestsPerMinute?: number };
}

export { ConfigError };

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): SimulatorConfig {
  try {
    return buildConfig(env);
  } catch (err) {
    if (err instanceof LatencyConfigError || err instanceof FaultConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

function buildConfig(env: Env): SimulatorConfig {
  const mode = parseChoice(env, 'SIMULATOR_MODE', ['generate', 'record', 'replay'] as const, 'generate');
  let backends: BackendConfig[];
  try {
    backends = parseBackends(env.AZURE_OPENAI_ENDPOINT, env.AZURE_OPENAI_KEY);
  } catch (err) {
    if (err instanceof BackendConfigError) throw new ConfigError(err.message);
    throw err;
  }
  const backendsTable = env.BACKENDS_TABLE?.trim() || undefined;
  const backendsTableSettings = {
    partition: env.BACKENDS_PARTITION?.trim() || 'openai-chat',
    refreshSeconds: parseNumber(env, 'BACKENDS_REFRESH_SECONDS', 10, 0.1),
  };
  if (mode === 'record' && !backends.length && !backendsTable) {
    throw new ConfigError(
      'SIMULATOR_MODE=record forwards to real Azure OpenAI: set AZURE_OPENAI_ENDPOINT (and AZURE_OPENAI_KEY, or give the app an Entra ID identity), or BACKENDS_TABLE.',
    );
  }
  const ignoreFields = (env.RECORDING_IGNORE_FIELDS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const configuredKey = env.SIMULATOR_API_KEY?.trim();
  const config: SimulatorConfig = {
    mode,
    apiKey: configuredKey || randomId(30),
    apiKeyGenerated: !configuredKey,
    region: env.SIMULATOR_REGION?.trim() || 'East US',
    allowUndefinedDeployments: parseBool(env, 'ALLOW_UNDEFINED_OPENAI_DEPLOYMENTS', true),
    deployments: loadDeployments(env.OPENAI_DEPLOYMENT_CONFIG_PATH),
    completionTokens: {
      mean: parseNumber(env, 'COMPLETION_TOKENS_MEAN', 120, 1),
      stdDev: parseNumber(env, 'COMPLETION_TOKENS_STD_DEV', 40, 0),
    },
    maxRequestBodyBytes: parseNumber(env, 'MAX_REQUEST_BODY_BYTES', 30 * 1024 * 1024, 1024),
    rateLimits: {
      costModel: parseChoice(env, 'RATE_LIMIT_COST_MODEL', ['aoai', 'python'] as const, 'aoai'),
      defaultMaxTokens: parseNumber(env, 'RATE_LIMIT_DEFAULT_MAX_TOKENS', 16, 0),
      oneSecondWindow: parseBool(env, 'RATE_LIMIT_ONE_SECOND_WINDOW', true),
      failurePolicy: parseChoice(env, 'RATE_LIMIT_STORE_FAILURE', ['open', 'closed'] as const, 'open'),
      storeTimeoutMs: parseNumber(env, 'RATE_LIMIT_STORE_TIMEOUT_MS', 2000, 1),
      table: env.RATE_LIMIT_TABLE?.trim() || 'ratelimits',
      undefinedDeployment: {
        tokensPerMinute: optionalEnvCount(env, 'UNDEFINED_DEPLOYMENT_TOKENS_PER_MINUTE'),
        requestsPerMinute: optionalEnvCount(env, 'UNDEFINED_DEPLOYMENT_REQUESTS_PER_MINUTE'),
      },
    },
    storage: loadStorage(env),
    responsesContainer: parseContainerName(env.RESPONSES_CONTAINER, 'RESPONSES_CONTAINER', 'responses'),
    recording: {
      dir: resolve(env.RECORDING_DIR?.trim() || '.recording'),
      container: parseContainerName(env.RECORDING_CONTAINER, 'RECORDING_CONTAINER', 'recordings'),
      // RECORDING_AUTO_SAVE: the name the Python simulator's own infra templates set (it never read it).
      autosave: parseBool(env, env.RECORDING_AUTOSAVE?.trim() ? 'RECORDING_AUTOSAVE' : 'RECORDING_AUTO_SAVE', true),
      refreshSeconds: parseNumber(env, 'RECORDING_REFRESH_SECONDS', 5, 0),
      timeFactor: parseNumber(env, 'RECORDING_TIME_FACTOR', 1, 0),
      match: ignoreFields.length ? 'json' : parseChoice(env, 'RECORDING_MATCH', ['exact', 'json'] as const, 'exact'),
      ignoreFields,
      replayInRecordMode: parseBool(env, 'RECORDING_REPLAY_IN_RECORD_MODE', true),
    },
    forward: {
      backends,
      timeoutMs: parseNumber(env, 'FORWARD_TIMEOUT_SECONDS', 120, 0.001) * 1000,
      table: backendsTable === undefined ? undefined : { name: backendsTable, ...backendsTableSettings },
    },
    latency: loadLatency(env),
    faults: parseFaults(parseJsonEnv(env, 'SIMULATOR_FAULTS'), 'SIMULATOR_FAULTS'),
    extensionPath: env.EXTENSION_PATH?.trim() || undefined,
    events: {
      table: env.EVENTS_TABLE?.trim() || 'events',
      usageTable: env.EVENTS_USAGE_TABLE?.trim() || 'eventusage',
      refreshSeconds: parseNumber(env, 'EVENTS_REFRESH_SECONDS', 60, 0.1),
      maxTokens: parseChoice(env, 'EVENT_MAX_TOKENS', ['clamp', 'reject'] as const, 'clamp'),
    },
    entra: loadEntra(env),
    configSync: {
      table: env.CONFIG_TABLE?.trim() || 'simulatorconfig',
      refreshSeconds: parseNumber(env, 'CONFIG_REFRESH_SECONDS', 5, 0.1),
    },
  };
  if (config.forward.table && !config.storage) {
    throw new ConfigError('BACKENDS_TABLE needs storage: set AZURE_STORAGE_CONNECTION_STRING (or the AzureWebJobsStorage identity settings).');
  }
  return config;
}

function parseJsonEnv(env: Env, name: string): unknown {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${name} must be JSON: ${(err as Error).message}`);
  }
}

function parseContainerName(raw: string | undefined, variable: string, fallback: string): string {
  const name = raw?.trim() || fallback;
  // Blob Storage's rule; a bad name would otherwise surface as a 400 on the first request.
  if (!/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) {
    throw new ConfigError(`${variable} must be 3-63 lowercase letters, digits and single hyphens; got '${name}'.`);
  }
  return name;
}

function parseChoice<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}; got '${env[name]}'.`);
  return raw as T;
}

function optionalEnvCount(env: Env, name: string): number | undefined {
  const raw = env[name]?.trim();
  return raw ? optionalCount(raw, name, 'the environment') : undefined;
}

function parseBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false; got '${env[name]}'.`);
}

function parseNumber(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(`${name} must be a number >= ${min}; got '${raw}'.`);
  return n;
}

// The Python simulator's built-in deployments (names and limits). Any other name is served as an
// undefined deployment, with the model inferred from the name and no limits.
const DEFAULT_DEPLOYMENTS: Record<string, RawDeployment> = {
  embedding: { model: 'text-embedding-ada-002', tokensPerMinute: 20000, embeddingSize: 1536 },
  'gpt-35-turbo-1k-token': { model: 'gpt-35-turbo', tokensPerMinute: 1000 },
  'gpt-35-turbo-2k-token': { model: 'gpt-35-turbo', tokensPerMinute: 2000 },
  'gpt-35-turbo-5k-token': { model: 'gpt-35-turbo', tokensPerMinute: 5000 },
  'gpt-35-turbo-10k-token': { model: 'gpt-35-turbo', tokensPerMinute: 10000 },
  'gpt-35-turbo-20k-token': { model: 'gpt-35-turbo', tokensPerMinute: 20000 },
  'gpt-35-turbo-50k-token': { model: 'gpt-35-turbo', tokensPerMinute: 50000 },
  'gpt-35-turbo-100k-token': { model: 'gpt-35-turbo', tokensPerMinute: 100000 },
  'gpt-35-turbo-100m-token': { model: 'gpt-35-turbo', tokensPerMinute: 100000000 },
  whisper: { model: 'whisper', requestsPerMinute: 3 },
};

interface RawDeployment {
  model: string;
  tokensPerMinute?: number | string;
  requestsPerMinute?: number | string;
  embeddingSize?: number | string;
  latency?: unknown;
  faults?: unknown;
}

function loadDeployments(path: string | undefined): Map<string, Deployment> {
  if (!path?.trim()) return buildDeployments(DEFAULT_DEPLOYMENTS, 'the built-in defaults');
  const file = resolve(path.trim());
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`OPENAI_DEPLOYMENT_CONFIG_PATH: cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`OPENAI_DEPLOYMENT_CONFIG_PATH: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`OPENAI_DEPLOYMENT_CONFIG_PATH: ${file} must hold a JSON object keyed by deployment name.`);
  }
  return buildDeployments(raw as Record<string, RawDeployment>, file);
}

function buildDeployments(raw: Record<string, RawDeployment>, source: string): Map<string, Deployment> {
  const out = new Map<string, Deployment>();
  for (const [name, entry] of Object.entries(raw)) {
    const where = `deployment '${name}' in ${source}`;
    if (entry === null || typeof entry !== 'object' || typeof entry.model !== 'string') {
      throw new ConfigError(`${where} needs a "model" string.`);
    }
    const model = findModel(entry.model);
    if (!model) {
      throw new ConfigError(`${where}: unknown model '${entry.model}'. Known models: ${modelNames().sort().join(', ')}.`);
    }
    const tokensPerMinute = optionalCount(entry.tokensPerMinute, 'tokensPerMinute', where);
    const requestsPerMinute = optionalCount(entry.requestsPerMinute, 'requestsPerMinute', where);
    const embeddingSize = optionalCount(entry.embeddingSize, 'embeddingSize', where);
    if (embeddingSize === 0) throw new ConfigError(`${where}: embeddingSize must be at least 1.`);
    out.set(name, {
      name,
      model,
      tokensPerMinute,
      requestsPerMinute,
      embeddingSize,
      latency: parseDeploymentLatency(entry.latency, where),
      faults: parseFaults(entry.faults, `${where}: faults`),
    });
  }
  return out;
}

function optionalCount(value: unknown, field: string, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new ConfigError(`${where}: ${field} must be a non-negative integer; got ${JSON.stringify(value)}.`);
  }
  return n;
}
