// Record mode's transparent proxy to real AOAI. The client's own credentials never leave: the
// upstream gets its configured key (or an Entra ID token), and hop-by-hop and identifying headers
// are dropped. Streams pass through chunk by chunk while the exchange is captured for recording,
// with each SSE event's arrival time. Upstream answers come back as they came; only a 2xx
// exchange that completed is offered for recording.

import { backendsCoolingDown, badGateway, gatewayTimeout } from '../../errors';
import type { HeaderLists } from '../recordings/format';
import type { BackendConfig } from '../../config/backends';
import { createBackendPool, type Backend } from './backends';
import { entraToken } from './entra-token';
import type { PoolChooser } from './table-backends';

const DEPLOYMENT_SEGMENT = /^\/openai\/deployments\/([^/?]+)/;

export interface ForwardRequest {
  method: string;
  /** Path and query as the client sent them (after '//' collapsing). */
  pathAndQuery: string;
  headers: Headers;
  body: Uint8Array;
}

/** A completed exchange, as a recording needs it. */
export interface CapturedExchange {
  status: number;
  headers: HeaderLists;
  body: Uint8Array;
  contentType: string;
  durationMs: number;
  /** For an SSE body: when each event had fully arrived, in ms from the start of the forward. */
  eventOffsetsMs?: number[];
}

export interface Forwarded {
  response: Response;
  /** Resolves once the body has been passed on in full: the exchange for a 2xx, else undefined. */
  captured: Promise<CapturedExchange | undefined>;
}

export interface ForwarderOptions {
  backends: readonly BackendConfig[];
  /** Per request, the backends for its deployment (the backends Table); default: `backends`. */
  pools?: PoolChooser;
  /** For the upstream's response headers, and for each gap between body chunks. */
  timeoutMs: number;
}

export interface Forwarder {
  forward(request: ForwardRequest): Promise<Forwarded>;
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
];
// The client's credentials, and what would identify the client or the simulator's host upstream.
// accept-encoding is left to fetch, which decompresses what it asked for.
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  'api-key',
  'authorization',
  'ocp-apim-subscription-key',
  'cookie',
  'forwarded',
  'via',
  'x-real-ip',
  'x-client-ip',
  'client-ip',
  'x-client-port',
  'disguised-host',
  'was-default-hostname',
  'x-site-deployment-id',
  'x-waws-unencoded-url',
  'x-appservice-proto',
  'accept-encoding',
]);
const NOT_FORWARDED_PREFIXES = ['x-forwarded-', 'x-original-', 'x-arr-', 'x-ms-client-principal', 'x-azure-', 'x-fd-'];
const NOT_RETURNED = new Set([...HOP_BY_HOP, 'content-encoding']);
// Also left out of recordings (the Python simulator's list): per-answer ids, dates, and noise.
const NOT_RECORDED = new Set([
  ...NOT_RETURNED,
  'apim-request-id',
  'azureml-model-session',
  'x-accel-buffering',
  'x-content-type-options',
  'x-ms-client-request-id',
  'x-ms-region',
  'x-request-id',
  'cache-control',
  'date',
  'strict-transport-security',
  'access-control-allow-origin',
  'set-cookie',
]);

const DEFAULT_COOLDOWN_MS = 10_000;

export function createForwarder(options: ForwarderOptions): Forwarder {
  const configured = options.backends.length ? createBackendPool(options.backends) : undefined;
  const pools: PoolChooser = options.pools ?? (async () => configured!);
  const token = entraToken();

  function upstreamHeaders(inbound: Headers, auth: Record<string, string>): Headers {
    const out = new Headers();
    const connectionListed = (inbound.get('connection') ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim());
    inbound.forEach((value, name) => {
      if (NOT_FORWARDED.has(name) || connectionListed.includes(name) || NOT_FORWARDED_PREFIXES.some((p) => name.startsWith(p))) return;
      out.set(name, value);
    });
    for (const [name, value] of Object.entries(auth)) out.set(name, value);
    return out;
  }

  async function attempt(backend: Backend, request: ForwardRequest, started: number): Promise<Forwarded> {
    const auth: Record<string, string> = backend.key ? { 'api-key': backend.key } : { authorization: `Bearer ${await token()}` };
    const abort = new AbortController();
    let timer = setTimeout(() => abort.abort(), options.timeoutMs);
    let upstream: Response;
    try {
      // A backends Table row names its own deployment there.
      const path = backend.deployment
        ? request.pathAndQuery.replace(DEPLOYMENT_SEGMENT, `/openai/deployments/${encodeURIComponent(backend.deployment)}`)
        : request.pathAndQuery;
      upstream = await fetch(backend.url + path, {
        method: request.method,
        headers: upstreamHeaders(request.headers, auth),
        body: request.method === 'GET' || request.method === 'HEAD' ? undefined : (request.body as Uint8Array<ArrayBuffer>),
        redirect: 'manual',
        signal: abort.signal,
      });
    } catch (err) {
      clearTimeout(timer);
      throw abort.signal.aborted ? new UpstreamTimeout(backend) : new UpstreamUnreachable(backend, err);
    }
    const headers: Record<string, string> = {};
    const recorded: HeaderLists = {};
    upstream.headers.forEach((value, name) => {
      if (NOT_RETURNED.has(name)) return;
      headers[name] = value;
      if (!NOT_RECORDED.has(name)) recorded[name] = [value];
    });
    const contentType = upstream.headers.get('content-type') ?? '';
    const ok = upstream.status >= 200 && upstream.status < 300;
    const restartTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(), options.timeoutMs);
    };

    if (!contentType.startsWith('text/event-stream') || !upstream.body) {
      let body: Uint8Array;
      try {
        body = new Uint8Array(await upstream.arrayBuffer());
      } catch {
        throw abort.signal.aborted ? new UpstreamTimeout(backend) : new UpstreamUnreachable(backend, new Error('the response body was cut off'));
      } finally {
        clearTimeout(timer);
      }
      const exchange = ok ? { status: upstream.status, headers: recorded, body, contentType, durationMs: Date.now() - started } : undefined;
      return {
        response: new Response(body.byteLength || upstream.status !== 204 ? (body as Uint8Array<ArrayBuffer>) : null, { status: upstream.status, headers }),
        captured: Promise.resolve(exchange),
      };
    }

    // A stream: each chunk goes to the client as it arrives; event ends are timed on the way.
    restartTimer();
    const reader = upstream.body.getReader();
    const chunks: Uint8Array[] = [];
    const offsets: number[] = [];
    const decoder = new TextDecoder();
    let tail = '';
    let settle!: (exchange: CapturedExchange | undefined) => void;
    const captured = new Promise<CapturedExchange | undefined>((resolve) => {
      settle = resolve;
    });
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (err) {
          clearTimeout(timer);
          settle(undefined);
          controller.error(err);
          return;
        }
        if (next.done) {
          clearTimeout(timer);
          controller.close();
          settle(
            ok
              ? {
                  status: upstream.status,
                  headers: recorded,
                  body: Buffer.concat(chunks),
                  contentType,
                  durationMs: Date.now() - started,
                  eventOffsetsMs: offsets,
                }
              : undefined,
          );
          return;
        }
        restartTimer();
        const at = Date.now() - started;
        if (ok) {
          chunks.push(next.value);
          // Count event ends ("\n\n", or "\r\n\r\n") including one split across chunks.
          const text = tail + decoder.decode(next.value, { stream: true });
          let end = 0;
          for (const m of text.matchAll(/\r?\n\r?\n/g)) {
            offsets.push(at);
            end = m.index + m[0].length;
          }
          tail = text.slice(end).slice(-3);
        }
        controller.enqueue(next.value);
      },
      cancel(reason) {
        clearTimeout(timer);
        settle(undefined); // the client left: the exchange is incomplete
        return reader.cancel(reason);
      },
    });
    return { response: new Response(body, { status: upstream.status, headers }), captured };
  }

  return {
    async forward(request) {
      const started = Date.now();
      const segment = DEPLOYMENT_SEGMENT.exec(request.pathAndQuery)?.[1];
      const pool = await pools(segment === undefined ? undefined : decodeURIComponent(segment));
      const order = pool.order(started);
      if (!order.length) {
        const ms = Math.max(1, pool.nextAvailable() - started);
        throw backendsCoolingDown(Math.ceil(ms / 1000), ms);
      }
      let lastAnswer: Forwarded | undefined;
      let lastFailure: UpstreamUnreachable | undefined;
      for (const [i, backend] of order.entries()) {
        let forwarded: Forwarded;
        try {
          forwarded = await attempt(backend, request, started);
        } catch (err) {
          if (err instanceof UpstreamTimeout) throw gatewayTimeout(err.message);
          if (!(err instanceof UpstreamUnreachable)) throw err;
          pool.cool(backend, Date.now() + DEFAULT_COOLDOWN_MS);
          lastFailure = err;
          continue;
        }
        const status = forwarded.response.status;
        if (status !== 429 && status < 500) return forwarded;
        pool.cool(backend, Date.now() + retryAfterMs(forwarded.response.headers));
        lastAnswer = forwarded;
        if (i < order.length - 1) await forwarded.response.body?.cancel();
      }
      if (lastAnswer) return lastAnswer; // the last backend's 429 or 5xx, as it came
      throw badGateway(`Could not reach the Azure OpenAI endpoint: ${lastFailure!.message}`);
    },
  };
}

class UpstreamTimeout extends Error {
  constructor(backend: Backend) {
    super(`The Azure OpenAI endpoint ${backend.url} did not answer in time.`);
  }
}

class UpstreamUnreachable extends Error {
  constructor(backend: Backend, cause: unknown) {
    const detail = (cause as { cause?: { code?: string; message?: string } }).cause;
    super(`${backend.url}: ${detail?.code ?? detail?.message ?? (cause as Error).message}`);
  }
}

function retryAfterMs(headers: Headers): number {
  const ms = Number(headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const seconds = Number(headers.get('retry-after'));
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  return DEFAULT_COOLDOWN_MS;
}
