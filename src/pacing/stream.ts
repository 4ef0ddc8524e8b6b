// Timed answers. One shared timer serves every paced stream and every delayed response in the
// process: due callbacks sit in a min-heap, the timer is armed for the earliest, and each tick runs
// everything due. Thousands of concurrent streams cost one timer, not one per chunk.

import { END_WITHOUT_DONE, responseHeaders, type SseFraming, sseEnd, sseFrame, streamErrorFrame, TOKEN_STEP, type Headers } from '../http';

interface Due {
  at: number;
  run: () => void;
}

const heap: Due[] = [];
let timer: NodeJS.Timeout | undefined;
let armedFor = Infinity;

function push(item: Due): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent].at <= item.at) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = item;
}

function pop(): Due {
  const top = heap[0];
  const last = heap.pop()!;
  if (heap.length) {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const c = l + 1 < heap.length && heap[l + 1].at < heap[l].at ? l + 1 : l;
      if (heap[c].at >= last.at) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = last;
  }
  return top;
}

function arm(): void {
  const next = heap.length ? heap[0].at : Infinity;
  if (next >= armedFor) return;
  if (timer) clearTimeout(timer);
  armedFor = next;
  timer = setTimeout(tick, Math.max(0, next - Date.now()));
}

function tick(): void {
  timer = undefined;
  armedFor = Infinity;
  // Within a millisecond counts as due: the timer fires on millisecond boundaries.
  const now = Date.now() + 1;
  while (heap.length && heap[0].at <= now) {
    try {
      pop().run();
    } catch {
      /* a stream the client has left; nothing to do */
    }
  }
  arm();
}

/** Runs `run` at `at` (epoch ms), on the shared timer. */
export function runAt(at: number, run: () => void): void {
  push({ at, run });
  arm();
}

export function sleepUntil(at: number): Promise<void> {
  if (at <= Date.now()) return Promise.resolve();
  return new Promise((resolve) => runAt(at, resolve));
}

export interface TokenPace {
  /** When the request started (epoch ms). */
  start: number;
  /** From start to the first token step. */
  ttftMs: number;
  /** Between token steps. */
  itlMs: number;
}

const utf8 = new TextEncoder();

/**
 * An SSE response whose events are released at token pace. The iterator yields TOKEN_STEP before
 * each token step: the first step is due at start + TTFT, each next one an inter-token delay
 * later. Events between steps go out together. Headers go at once. The shared timer pushes each
 * step's events into the stream (no pull/promise round trip per token). `onEnd` runs when the
 * last event has been handed over (or the client left).
 */
/** Paced streams still sending, so a shutdown can end them with the error event. */
const live = new Set<() => void>();

/** Ends every paced stream still sending with AOAI's error event (a shutdown's grace is over). */
export function cutLiveStreams(): number {
  const cuts = [...live];
  for (const cut of cuts) cut();
  return cuts.length;
}

export function pacedSseResponse(events: Iterator<string>, headers: Headers, pace: TokenPace, onEnd?: () => void, framing: SseFraming = 'data'): Response {
  const last = sseEnd(framing);
  let sent = 0;
  let cut: (() => void) | undefined;
  const sseHeaders = responseHeaders(headers, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let steps = 0;
  let due = pace.start;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    if (cut) live.delete(cut);
    onEnd?.();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      cut = () => {
        if (ended) return;
        try {
          controller.enqueue(utf8.encode(streamErrorFrame(framing, sent)));
          controller.close();
        } catch {
          // the client has gone already
        }
        end();
      };
      live.add(cut);
      /** Sends everything due now; schedules itself for the next step. */
      const flush = () => {
        if (ended) return;
        let batch = '';
        const now = Date.now() + 1;
        for (;;) {
          const next = events.next();
          if (next.done) {
            controller.enqueue(utf8.encode(batch + last));
            controller.close();
            end();
            return;
          }
          if (next.value === END_WITHOUT_DONE) {
            controller.enqueue(utf8.encode(batch));
            controller.close();
            end();
            return;
          }
          if (next.value === TOKEN_STEP) {
            due = steps === 0 ? pace.start + pace.ttftMs : due + pace.itlMs;
            steps++;
            if (due > now) {
              if (batch) controller.enqueue(utf8.encode(batch));
              runAt(due, flush);
              return;
            }
            continue;
          }
          batch += sseFrame(next.value, framing);
          sent++;
        }
      };
      flush();
    },
    cancel() {
      end();
    },
  });
  return new Response(body, { status: 200, headers: sseHeaders });
}

/** When the last of `steps` token steps is due: TTFT, then an inter-token delay per further step. */
export const lastStepAt = (pace: TokenPace, steps: number) => (steps <= 0 ? pace.start : pace.start + pace.ttftMs + (steps - 1) * pace.itlMs);
