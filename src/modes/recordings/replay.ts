// A recorded interaction as a live Response: the recorded status, headers and body, at the
// recorded pace. A streamed body with event offsets is sent event by event at those offsets; any
// other body is sent whole once `duration_ms` has passed. `timeFactor` scales every wait
// (0: as fast as possible).

import { responseHeaders, type Headers } from '../../http';
import { bodyBytes, type Interaction } from './format';

// Framing that the host recomputes, and ids/dates that belong to this answer, not the recorded one.
const NOT_REPLAYED = new Set(['content-length', 'transfer-encoding', 'content-encoding', 'connection', 'keep-alive', 'date']);
// What a Response accepts; a hand-edited header outside it is dropped rather than failing the answer.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;
const NULL_BODY_STATUS = new Set([204, 205, 304]);

export function replayResponse(interaction: Interaction, headers: Headers, startedAt: number, timeFactor: number): Promise<Response> | Response {
  const recorded = interaction.response;
  const out: Headers = {};
  for (const [name, value] of Object.entries(recorded.headers ?? {})) {
    const lower = name.toLowerCase();
    const text = Array.isArray(value) ? String(value[0]) : String(value);
    if (NOT_REPLAYED.has(lower) || !HEADER_NAME.test(lower) || !HEADER_VALUE.test(text)) continue;
    out[lower] = text;
  }
  // This answer's ids, region and rate-limit headers take precedence over recorded ones.
  const finalHeaders = responseHeaders(out, headers);
  const status = recorded.status.code;
  const raw = recorded.body?.string;
  const body = raw === null || raw === undefined || NULL_BODY_STATUS.has(status) ? null : typeof raw === 'string' ? raw : bodyBytes(raw);
  const offsets = Array.isArray(recorded.event_offsets_ms) && recorded.event_offsets_ms.every(Number.isFinite) ? recorded.event_offsets_ms : undefined;
  const isStream = (finalHeaders['content-type'] ?? '').startsWith('text/event-stream');

  if (isStream && offsets?.length && timeFactor > 0 && body !== null) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    return new Response(pacedEvents(splitEvents(text), offsets, startedAt, timeFactor), { status, headers: finalHeaders });
  }
  const respond = () => new Response(body as BodyInit | null, { status, headers: finalHeaders });
  const duration = Number(recorded.duration_ms);
  const wait = startedAt + (Number.isFinite(duration) ? duration : 0) * timeFactor - Date.now();
  if (wait <= 0) return respond();
  return new Promise((resolve) => setTimeout(() => resolve(respond()), wait));
}

/** SSE events with their terminating blank line; a trailing fragment is kept as a last event. */
export function splitEvents(text: string): string[] {
  const events: string[] = [];
  const boundary = /\r?\n\r?\n/g;
  let from = 0;
  for (let m = boundary.exec(text); m; m = boundary.exec(text)) {
    events.push(text.slice(from, m.index + m[0].length));
    from = m.index + m[0].length;
  }
  if (from < text.length) events.push(text.slice(from));
  return events;
}

const utf8 = new TextEncoder();

function pacedEvents(events: string[], offsets: number[], startedAt: number, timeFactor: number): ReadableStream<Uint8Array> {
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  // Events beyond the recorded offsets (a hand-edited body) go with the last recorded one.
  const dueAt = (i: number) => startedAt + offsets[Math.min(i, offsets.length - 1)] * timeFactor;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      return new Promise<void>((resolve) => {
        const send = () => {
          const now = Date.now();
          let chunk = '';
          while (next < events.length && dueAt(next) <= now) chunk += events[next++];
          // A timer can fire before Date.now() reaches its due time (the loop's clock is read
          // once per turn): wait again. Resolving with nothing enqueued would leave the stream
          // waiting for a pull that never comes.
          if (!chunk && next < events.length) {
            timer = setTimeout(send, Math.max(1, dueAt(next) - now));
            return;
          }
          if (chunk) controller.enqueue(utf8.encode(chunk));
          if (next >= events.length) controller.close();
          resolve();
        };
        const wait = dueAt(next) - Date.now();
        if (wait <= 0) send();
        else timer = setTimeout(send, wait);
      });
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}
