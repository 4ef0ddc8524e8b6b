// The record and replay modes over the recording library and the forwarder: request keys,
// what an interaction holds, and the two mode handlers the pipeline calls.

import type { SimulatorConfig } from '../config';
import { recordingNotFound, recordingStoreUnavailable, resourceNotFound } from '../errors';
import type { Forwarder as ExtensionForwarder } from '../extensions';
import { createForwarder, type CapturedExchange, type Forwarder } from './forward/forwarder';
import { poolChooser, type BackendRowSource } from './forward/table-backends';
import { decodeUtf8, type Headers } from '../http';
import { log } from '../log';
import { bodyHash, jsonRequestKey, recordingFileName, requestHash, type Body, type Interaction } from './recordings/format';
import { createRecordingLibrary, RecordingStoreUnavailable, type RecordingLibrary, type RequestKey, type SaveSummary } from './recordings/library';
import { replayResponse } from './recordings/replay';
import type { RecordingStore } from './recordings/store';

export interface RecordReplay {
  readonly storeName: string;
  /** The recorded answer to this request (replay mode, or record mode's hits). */
  find(request: Request, path: string, body: Uint8Array): Promise<{ key: RequestKey; interaction?: Interaction }>;
  /** Throws RecordingNotFound when nothing matches. */
  findOrFail(request: Request, path: string, body: Uint8Array): Promise<Interaction>;
  respond(interaction: Interaction, headers: Headers, startedAt: number): Response | Promise<Response>;
  /** Record mode: a matching recording if allowed, else forward upstream and record a 2xx. */
  record(
    request: Request,
    path: string,
    body: Uint8Array,
    headers: Headers,
    startedAt: number,
    onAnswered?: (usage: { promptTokens: number; completionTokens: number }) => void,
  ): Promise<Response>;
  save(): Promise<SaveSummary>;
  /** The recording files with their interaction counts (the dashboard's list). */
  files(): Promise<{ file: string; interactions: number; unsaved: number }[]>;
  close(): Promise<void>;
}

const TEXT_TYPES = ['application/json', 'application/text', 'text/'];
const isText = (contentType: string) => TEXT_TYPES.some((t) => contentType.startsWith(t));
/** Binary request bodies (audio) are kept out of files above this size: the hash still matches them. */
const MAX_BINARY_REQUEST_BODY = 1024;

export function createRecordReplay(
  config: SimulatorConfig,
  store: RecordingStore,
  extensionForwarders: readonly ExtensionForwarder[] = [],
  /** Record mode's backends Table (BACKENDS_TABLE), when configured. */
  backendRows?: BackendRowSource,
): RecordReplay {
  const settings = config.recording;
  const library: RecordingLibrary = createRecordingLibrary({
    store,
    autosave: settings.autosave,
    refreshMs: settings.refreshSeconds * 1000,
    jsonMatch: settings.match === 'json' ? { ignoreFields: settings.ignoreFields } : undefined,
  });
  let forwarder: Forwarder | undefined;
  const forward = () =>
    (forwarder ??= createForwarder({
      backends: config.forward.backends,
      timeoutMs: config.forward.timeoutMs,
      pools: backendRows && poolChooser(config.forward.backends, backendRows, (config.forward.table?.refreshSeconds ?? 10) * 1000),
    }));

  function keyFor(request: Request, path: string, body: Uint8Array): RequestKey {
    const method = request.method.toUpperCase();
    const contentType = request.headers.get('content-type') ?? undefined;
    const key: RequestKey = { method, path, file: recordingFileName(path), hash: requestHash(method, path, bodyHash(body, contentType)) };
    if (settings.match === 'json' && contentType?.startsWith('application/json')) {
      key.jsonKey = jsonRequestKey(method, path, body, settings.ignoreFields);
    }
    return key;
  }

  async function find(request: Request, path: string, body: Uint8Array) {
    const key = keyFor(request, path, body);
    try {
      return { key, interaction: await library.find(key) };
    } catch (err) {
      if (err instanceof RecordingStoreUnavailable) throw recordingStoreUnavailable(err.message);
      throw err;
    }
  }

  const respond = (interaction: Interaction, headers: Headers, startedAt: number) => replayResponse(interaction, headers, startedAt, settings.timeFactor);

  return {
    storeName: store.name,
    find,
    async findOrFail(request, path, body) {
      const { key, interaction } = await find(request, path, body);
      if (!interaction) throw recordingNotFound(key.method, path, key.hash, `${key.file} (${store.name})`);
      return interaction;
    },
    respond,
    async record(request, path, body, headers, startedAt, onAnswered) {
      const key = keyFor(request, path, body);
      if (settings.replayInRecordMode) {
        try {
          const recorded = await library.find(key);
          if (recorded) {
            onAnswered?.(recordedUsage(recorded));
            return respond(recorded, headers, startedAt);
          }
        } catch (err) {
          // The store is down: the upstream can still answer, and the save retries later.
          if (!(err instanceof RecordingStoreUnavailable)) throw err;
        }
      }
      for (const extensionForward of extensionForwarders) {
        const started = Date.now();
        const answer = await extensionForward(
          new Request(request.url, {
            method: request.method,
            headers: request.headers,
            body: request.method === 'GET' || request.method === 'HEAD' ? undefined : (body as Uint8Array<ArrayBuffer>),
          }),
          body,
        );
        if (!answer) continue;
        if (answer.status < 200 || answer.status >= 300) return answer;
        const bytes = new Uint8Array(await answer.arrayBuffer());
        const recorded: Record<string, string[]> = {};
        answer.headers.forEach((value, name) => {
          if (!['content-length', 'transfer-encoding', 'connection', 'date'].includes(name)) recorded[name] = [value];
        });
        const saved = library.add(
          key,
          interactionOf(request, path, body, key, {
            status: answer.status,
            headers: recorded,
            body: bytes,
            contentType: answer.headers.get('content-type') ?? '',
            durationMs: Date.now() - started,
          }),
        );
        return endAfter(new Response(bytes, { status: answer.status, headers: answer.headers }), saved);
      }
      const url = new URL(request.url);
      // Only paths under the upstream's /openai/, as the client encoded them (never a decoded
      // %2F or a dot segment that would leave it).
      if (!isForwardablePath(url.pathname)) throw resourceNotFound();
      const { response, captured } = await forward().forward({
        method: key.method,
        pathAndQuery: url.pathname + url.search,
        headers: request.headers,
        body,
      });
      const saved = captured.then((exchange) => {
        if (!exchange) return;
        let interaction: Interaction;
        try {
          const usage = usageOf(exchange);
          onAnswered?.({ promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0 });
          interaction = interactionOf(request, path, body, key, exchange);
        } catch (err) {
          log.error(`recording ${key.file}: ${(err as Error).message}`);
          return;
        }
        return library.add(key, interaction);
      });
      return endAfter(response, saved);
    },
    save: () => library.save(),
    files: () => library.files(),
    close: () => library.close(),
  };
}

function interactionOf(request: Request, path: string, body: Uint8Array, key: RequestKey, exchange: CapturedExchange): Interaction {
  const requestType = request.headers.get('content-type') ?? '';
  const headers: Record<string, string[]> = {};
  for (const name of ['content-type', 'accept']) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = [value];
  }
  let requestBody: Body = null;
  if (isText(requestType)) requestBody = decodeUtf8(body);
  else if (body.byteLength <= MAX_BINARY_REQUEST_BODY) requestBody = Buffer.from(body);
  const interaction: Interaction = {
    request: {
      method: key.method,
      uri: request.url,
      headers,
      body: requestBody,
      body_hash: bodyHash(body, requestType || undefined),
    },
    response: {
      status: { code: exchange.status },
      headers: exchange.headers,
      body: { string: isText(exchange.contentType) ? decodeUtf8(exchange.body) : Buffer.from(exchange.body) },
      duration_ms: exchange.durationMs,
    },
    context_values: contextValues(path, exchange),
  };
  if (exchange.eventOffsetsMs?.length) interaction.response.event_offsets_ms = exchange.eventOffsetsMs;
  return interaction;
}

// The Python simulator's context values, so its replay applies the right limiter to our files.
const PYTHON_OPERATIONS: [RegExp, string][] = [
  [/^chat\/completions/, 'chat_completions'],
  [/^completions/, 'completions'],
  [/^embeddings/, 'embeddings'],
  [/^audio\/translations/, 'translation'],
  [/^audio\/transcriptions/, 'transcription'],
  [/^images\/generations/, 'image_generation'],
];

function contextValues(path: string, exchange: CapturedExchange): Record<string, unknown> {
  const match = /^\/openai\/deployments\/([^/]+)\/(.*)$/.exec(path);
  if (!match) return {};
  const operation = PYTHON_OPERATIONS.find(([re]) => re.test(match[2]))?.[1] ?? match[2];
  const values: Record<string, unknown> = { 'Deployment-Name': match[1], 'Operation-Name': operation };
  if (['chat_completions', 'completions', 'embeddings'].includes(operation)) {
    values.Limiter = 'openai-tokens';
    const usage = usageOf(exchange);
    if (usage) {
      values['X-OpenAI-Tokens-Prompt'] = usage.prompt_tokens ?? null;
      values['X-OpenAI-Tokens-Completion'] = usage.completion_tokens ?? null;
      values['X-OpenAI-Tokens-Total'] = usage.total_tokens ?? null;
    }
  } else {
    values.Limiter = 'openai-requests';
  }
  return values;
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

/** `usage` of a JSON body, or of a stream's last chunk that carries one (stream_options.include_usage). */
function usageOf(exchange: CapturedExchange): Usage | undefined {
  const text = decodeUtf8(exchange.body);
  if (exchange.contentType.startsWith('application/json')) {
    try {
      return (JSON.parse(text) as { usage?: Usage }).usage;
    } catch {
      return undefined;
    }
  }
  const at = text.lastIndexOf('"usage":{');
  if (at < 0) return undefined;
  const line = text.slice(text.lastIndexOf('data: ', at) + 6, text.indexOf('\n', at));
  try {
    return (JSON.parse(line) as { usage?: Usage }).usage ?? undefined;
  } catch {
    return undefined;
  }
}

/** The tokens a recorded answer reported (its context values, as both simulators write them). */
export function recordedUsage(interaction: Interaction): { promptTokens: number; completionTokens: number } {
  const n = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v) : 0);
  return {
    promptTokens: n(interaction.context_values?.['X-OpenAI-Tokens-Prompt']),
    completionTokens: n(interaction.context_values?.['X-OpenAI-Tokens-Completion']),
  };
}

/** Tokens a replayed request is charged when the request itself cannot be parsed for its cost. */
export function recordedTokens(interaction: Interaction): number {
  const total = Number(interaction.context_values?.['X-OpenAI-Tokens-Total']);
  return Number.isFinite(total) && total > 0 ? total : 0;
}

/** AOAI's deployment names: letters, digits, `-`, `_` and `.`, at most 64 characters. */
export const DEPLOYMENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A path that may go upstream: under /openai/, each segment decoding to no `/`, `\`, dot segment
 * or control character, and a deployment segment (if any) that is a deployment name.
 */
function isForwardablePath(rawPath: string): boolean {
  if (!rawPath.startsWith('/openai/')) return false;
  const segments = rawPath.split('/').slice(1);
  for (const [i, raw] of segments.entries()) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return false;
    }
    if (segment === '.' || segment === '..' || /[/\\\u0000-\u001f\u007f]/.test(segment)) return false;
    if (i === 2 && segments[1] === 'deployments' && !DEPLOYMENT_NAME.test(segment)) return false;
  }
  return true;
}

// How long an answer's last byte may wait for its exchange to be saved (a store that hangs must not hold the client).
const SAVE_BEFORE_END_MS = 5000;

/**
 * With autosave, an answer ends only once its exchange is saved (or the save has failed, or
 * SAVE_BEFORE_END_MS passed): a client that has the whole answer can count on it surviving a
 * crash of this instance. Without autosave, saves are left to /++/save-recordings and shutdown.
 */
function endAfter(response: Response, saved: Promise<void>): Response {
  // A failed save is logged (and retried) by the library; the answer still ends.
  const settled = saved.catch(() => undefined);
  if (!response.body) return response;
  const bounded = () => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SAVE_BEFORE_END_MS);
    });
    return Promise.race([settled, limit]).finally(() => clearTimeout(timer));
  };
  return new Response(response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: bounded })), {
    status: response.status,
    headers: response.headers,
  });
}
