// Record mode's answer: a transparent proxy. The request goes to real AOAI (the upstream judges
// api-version, deployment and limits) and a 2xx exchange is saved as a recording.

import { readBody } from '../http';
import type { Next, Services } from '../pipeline/exchange';
import { uriPath } from './recordings/format';

export function record({ config, recordings, events }: Services): Next {
  return async (x) => {
    let request = x.request;
    const body = (x.body ??= await readBody(request, config.maxRequestBodyBytes));
    if (x.bodyChanged) {
      // What goes upstream is the clamped request (its length changes with it).
      const headers = new Headers(request.headers);
      headers.delete('content-length');
      request = new Request(request.url, { method: request.method, headers, body: body as Uint8Array<ArrayBuffer> });
    }
    const attendee = x.attendee;
    return recordings().record(
      request,
      uriPath(request.url),
      body,
      x.headers,
      x.startedAt,
      attendee && ((usage) => events()!.count(attendee, usage.promptTokens, usage.completionTokens)),
    );
  };
}
