// Web-standard Response builders. Headers are passed as plain objects at construction (never
// mutated afterwards) so hosts with a lightweight Response (e.g. @hono/node-server) keep their
// fast path.

import { asAoaiError, type AoaiError, bodyNotReceived, requestTooLarge } from './errors';
import { uuid } from './random';

export type Headers = Record<string, string>;

/** Headers on every response, errors included (B10): distinct ids, region, client id echo. */
export function baseHeaders(request: Request, region: string): Headers {
  const headers: Headers = {
    'apim-request-id': uuid(),
    'x-request-id': uuid(),
    'x-ms-region': region,
    'x-content-type-options': 'nosniff',
  };
  const clientRequestId = request.headers.get('x-ms-client-request-id');
  if (clientRequestId) headers['x-ms-client-request-id'] = clientRequestId;
  return headers;
}

const JSON_TYPE = 'application/json';

/**
 * Response headers: the request's own header object (made per request by `baseHeaders`, so the
 * response may take it over) plus `extra`. Object.assign rather than spread: V8's spread of a
 * 10-20 key object costs several microseconds, a measurable share of a 429.
 */
export function responseHeaders(base: Headers, ...extra: Headers[]): Headers {
  return Object.assign(base, ...extra);
}

export function jsonResponse(status: number, body: unknown, headers: Headers): Response {
  return new Response(JSON.stringify(body), { status, headers: responseHeaders(headers, { 'content-type': JSON_TYPE }) });
}

export function textResponse(status: number, text: string, headers: Headers, contentType = 'text/plain; charset=utf-8'): Response {
  return new Response(text, { status, headers: responseHeaders(headers, { 'content-type': contentType }) });
}

export function errorResponse(error: AoaiError, headers: Headers): Response {
  return new Response(JSON.stringify(error.body), { status: error.status, headers: responseHeaders(headers, error.headers, { 'content-type': JSON_TYPE }) });
}

/** The answer for anything thrown: AOAI's error body (a 500 for what is not an AoaiError). */
export const failureResponse = (err: unknown, headers: Headers): Response => errorResponse(asAoaiError(err), headers);

/** Yielded by event iterators before each token step; unpaced writers skip it (src/stream.ts paces by it). */
export const TOKEN_STEP = '\u0000step';
/** Yielded last by a stream that ends in an error: writers close it without `data: [DONE]`. */
export const END_WITHOUT_DONE = '\u0000end';

const utf8 = new TextEncoder();
const EVENTS_PER_WRITE = 64;
const SINGLE_WRITE_BYTES = 64 * 1024;
const DONE = 'data: [DONE]\n\n';

/**
 * How events are framed: chat's `data: <payload>` ending in `data: [DONE]`, or typed events (the
 * Responses API) whose payloads are whole `event:`/`data:` frames, with no [DONE].
 */
export type SseFraming = 'data' | 'typed';
export const sseFrame = (payload: string, framing: SseFraming) => (framing === 'typed' ? payload : 'data: ' + payload + '\n\n');
export const sseEnd = (framing: SseFraming) => (framing === 'typed' ? '' : DONE);

const SERVER_ERROR_MESSAGE = 'The server had an error while processing your request. Sorry about that!';
/** What a stream that must be cut sends last (openai-node raises it as an APIError); chat's payload. */
export const STREAM_ERROR = JSON.stringify({ error: { message: SERVER_ERROR_MESSAGE, type: 'server_error', param: null, code: 'server_error' } });
/** The same as a whole frame: chat's `data:` frame, or the Responses API's `error` event numbered `sequence`. */
export const streamErrorFrame = (framing: SseFraming, sequence: number) =>
  framing === 'typed'
    ? `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'server_error', message: SERVER_ERROR_MESSAGE, param: null, sequence_number: sequence })}\n\n`
    : sseFrame(STREAM_ERROR, 'data');

/**
 * An SSE response over already-serialised event payloads. A stream whose events all exist within
 * the first 64 KiB goes out as one body in one write (nothing would be gained by waiting); a
 * longer one streams, pulled as the client reads, up to 64 events per write.
 */
export function sseResponse(events: Iterator<string>, headers: Headers, framing: SseFraming = 'data'): Response {
  const end = sseEnd(framing);
  const sseHeaders = responseHeaders(headers, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let prefix = '';
  for (;;) {
    const next = events.next();
    if (next.done) return new Response(prefix + end, { status: 200, headers: sseHeaders });
    if (next.value === TOKEN_STEP) continue;
    if (next.value === END_WITHOUT_DONE) return new Response(prefix, { status: 200, headers: sseHeaders });
    prefix += sseFrame(next.value, framing);
    if (prefix.length >= SINGLE_WRITE_BYTES) break;
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(utf8.encode(prefix));
    },
    pull(controller) {
      let batch = '';
      for (let i = 0; i < EVENTS_PER_WRITE; i++) {
        const next = events.next();
        if (next.done) {
          controller.enqueue(utf8.encode(batch + end));
          controller.close();
          return;
        }
        if (next.value === TOKEN_STEP) continue;
        if (next.value === END_WITHOUT_DONE) {
          controller.enqueue(utf8.encode(batch));
          controller.close();
          return;
        }
        batch += sseFrame(next.value, framing);
      }
      controller.enqueue(utf8.encode(batch));
    },
  });
  return new Response(body, { status: 200, headers: sseHeaders });
}

/** Reads the whole body, refusing more than `limit` bytes (by Content-Length, or while streaming). */
export async function readBody(request: Request, limit: number, tooLarge: (size: number) => AoaiError = () => requestTooLarge(limit)): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > limit) throw tooLarge(declared);
  // With a declared length, read in one go: touching `request.body` would make hosts with a
  // lightweight Request (@hono/node-server) build a full one, the costliest step per request.
  if (Number.isFinite(declared)) {
    try {
      return new Uint8Array(await request.arrayBuffer());
    } catch {
      throw bodyNotReceived(); // the client went away, or the server's request timeout cut it off
    }
  }
  if (!request.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(size);
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

const utf8Decoder = new TextDecoder();
export const decodeUtf8 = (bytes: Uint8Array): string => utf8Decoder.decode(bytes);

/**
 * A body that never fails its reader: an error mid-way ends it, with AOAI's error event when it
 * is a stream. For hosts that give no answer at all when a body errors (the Functions library).
 */
export function neverFailingBody(body: ReadableStream<Uint8Array>, contentType: string): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const sse = contentType.startsWith('text/event-stream');
  let typed: boolean | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        typed ??= decodeUtf8(value.subarray(0, 6)) === 'event:';
        controller.enqueue(value);
      } catch {
        if (sse) controller.enqueue(utf8.encode(streamErrorFrame(typed ? 'typed' : 'data', 0)));
        controller.close();
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
