// Stage: read and parse. An event's token cap clamps the body first; the operation then parses
// its request type, or refuses with AOAI's 400 (a recording being replayed is not refused).

import { AoaiError } from '../errors';
import { capMaxTokens } from '../events/token-cap';
import { readBody } from '../http';
import type { Exchange, Next, Services, Stage } from './exchange';

/** An attendee's max_tokens clamped to the event's cap (chat and completions). */
export function limitEventTokens({ config }: Services): Stage {
  const limit = async (x: Exchange, next: Next, cap: number) => {
    const body = (x.body ??= await readBody(x.request, config.maxRequestBodyBytes));
    x.body = capMaxTokens(body, cap, config.events.maxTokens);
    x.bodyChanged = x.body !== body;
    return next(x);
  };
  return (x, next) => {
    const cap = x.attendee?.event.maxTokenCap;
    const kind = x.operation?.kind;
    return cap && (kind === 'chat' || kind === 'completions') ? limit(x, next, cap) : next(x);
  };
}

export function parse(): Stage {
  return (x, next) =>
    x.operation!.parse(x).then(
      (parsed) => {
        x.parsed = parsed;
        x.parsedOk = true;
        return next(x);
      },
      (err: unknown) => {
        // Real AOAI accepted the recorded request; a check of ours must not refuse its replay.
        if (!x.recorded || !(err instanceof AoaiError)) throw err;
        x.parsedOk = false;
        return next(x);
      },
    );
}
