// What operations call to take the time a model would: token pace for chat and completions,
// a fixed wait for the rest. Everything waits on the shared timer (src/stream.ts).

import { END_WITHOUT_DONE, type SseFraming, sseResponse, STREAM_ERROR, streamErrorFrame, TOKEN_STEP, type Headers } from '../http';
import { sample } from '../pacing/latency';
import type { RequestContext } from './operation';
import { lastStepAt, pacedSseResponse, sleepUntil, type TokenPace } from '../pacing/stream';

/** This request's token pace, or undefined when it takes no time (latency off, or all zero). */
export function tokenPace(ctx: RequestContext): TokenPace | undefined {
  ctx.generatedAt = Date.now();
  const timing = ctx.timing;
  if (!timing) return undefined;
  const itl = sample(timing.profile.perTokenMs) * timing.factor;
  // Without a TTFT of its own, the first token takes one inter-token delay: the Python
  // simulator's total of per-token latency × tokens.
  const ttft = timing.profile.ttftMs ? sample(timing.profile.ttftMs) * timing.factor : itl;
  if (!itl && !ttft) return undefined;
  return { start: ctx.startedAt, ttftMs: ttft, itlMs: itl };
}

/** The events up to `tokens` token steps, then an error event; no [DONE]. */
function* cutAfter(events: Iterator<string>, tokens: number, framing: SseFraming): Generator<string> {
  let steps = 0;
  let sent = 0;
  for (let next = events.next(); !next.done; next = events.next()) {
    if (next.value === TOKEN_STEP && ++steps > tokens) {
      yield TOKEN_STEP;
      yield framing === 'typed' ? streamErrorFrame('typed', sent) : STREAM_ERROR;
      yield END_WITHOUT_DONE;
      return;
    }
    if (next.value !== TOKEN_STEP) sent++;
    yield next.value;
  }
}

/** A stream of `steps` token steps at token pace (or at once), cut short when fault injection says so. */
export function streamAnswer(
  ctx: RequestContext,
  events: Iterator<string>,
  pace: TokenPace | undefined,
  steps: number,
  headers: Headers = ctx.headers,
  framing: SseFraming = 'data',
): Response {
  const cut = ctx.cutStream?.(steps);
  if (cut !== undefined) events = cutAfter(events, cut, framing);
  if (!pace) {
    ctx.timing?.done();
    return sseResponse(events, headers, framing);
  }
  return pacedSseResponse(events, headers, pace, () => ctx.timing?.done(), framing);
}

/** A whole answer, released when its last token step is due (at once, synchronously, without a pace). */
export function answerAfterTokens(ctx: RequestContext, pace: TokenPace | undefined, steps: number, respond: () => Response): Response | Promise<Response> {
  if (!pace) {
    ctx.timing?.done();
    return respond();
  }
  return sleepUntil(lastStepAt(pace, steps)).then(() => {
    ctx.timing?.done();
    return respond();
  });
}

/** A whole answer released `ms` after the request started. */
export async function answerAfter(ctx: RequestContext, ms: number, respond: () => Response | Promise<Response>): Promise<Response> {
  if (ms > 0) await sleepUntil(ctx.startedAt + ms);
  ctx.timing?.done();
  return respond();
}

/** Token steps of an answer: its longest choice (choices stream side by side), at least one. */
export const tokenSteps = (lengths: readonly number[]) => Math.max(1, ...lengths);
