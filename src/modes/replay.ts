// Replay mode: the recording that matches the request answers it (found before any quota is
// used), at the recorded pace; never forwarded. A miss is AOAI-shaped RecordingNotFound.

import { readBody } from '../http';
import type { Next, Services, Stage } from '../pipeline/exchange';
import { recordedUsage } from './record-replay';
import { uriPath } from './recordings/format';

/** Stage: the recording for this request, before parsing (so a miss costs no quota). */
export function findRecording({ config, recordings }: Services): Stage {
  return async (x, next) => {
    x.body ??= await readBody(x.request, config.maxRequestBodyBytes);
    x.recorded = await recordings().findOrFail(x.request, uriPath(x.request.url), x.body);
    return next(x);
  };
}

/** The answer: the recorded one, with this answer's ids and rate-limit headers. */
export function replay({ recordings }: Services): Next {
  return async (x) => {
    const response = await recordings().respond(x.recorded!, x.headers, x.startedAt);
    if (x.answered) {
      x.usage = recordedUsage(x.recorded!);
      x.answered(response.status, Date.now());
    }
    return response;
  };
}
