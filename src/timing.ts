// What operations call to take the time a model would: token pace for chat and completions,
// a fixed wait for the rest. Everything waits on the shared timer (src/stream.ts).

import { sseResponse, type Headers } from './http';
import { sample } from './latency';
import type { RequestContext } from './operation';
import { lastStepAt, pacedSseResponse, sleepUntil, type TokenPace } from './stream';

/** This request's token pace, or undefined when it takes no time (latency off, or all zero). */
export function tokenPace(ctx: RequestContext): TokenPace | undefined {
  const timing = ctx.timing;
  if (!timing) return undefined;
  const itl = sample(timing.profile.perTokenMs) * timing.factor;
  // Without a TTFT of its own, the first token takes one inter-token delay: the Python
  // simulator's total of per-token latency × tokens.
  const ttft = timing.profile.ttftMs ? sample(timing.profile.ttftMs) * timing.factor : itl;
  if (!itl && !ttft) return undefined;
  return { start: ctx.startedAt, ttftMs: ttft, itlMs: itl };
}

/** A stream at token pace (or at once). */
export function streamAnswer(ctx: RequestContext, events: Iterator<string>, pace: TokenPace | undefined, headers: Headers = ctx.headers): Response {
  if (!pace) {
    ctx.timing?.done();
    return sseResponse(events, headers);
  }
  return pacedSseResponse(events, headers, pace, ctx.timing?.done);
}

/** A whole answer, released when its last token step is due. */
export async function answerAfterTokens(ctx: RequestContext, pace: TokenPace | undefined, steps: number, respond: () => Response): Promise<Response> {
  if (pace) await sleepUntil(lastStepAt(pace, steps));
  ctx.timing?.done();
  return respond();
}

/** A whole answer released `ms` after the request started. */
export async function answerAfter(ctx: RequestContext, ms: number, respond: () => Response | Promise<Response>): Promise<Response> {
  if (ms > 0) await sleepUntil(ctx.startedAt + ms);
  ctx.timing?.done();
  return respond();
}

/** Token steps of an answer: its longest choice (choices stream side by side), at least one. */
export const tokenSteps = (lengths: readonly number[]) => Math.max(1, ...lengths);
