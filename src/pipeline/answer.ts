// Stage 7, answer: the mode's. Generate makes a wire-exact answer from the parsed request;
// replay answers from the matching recording (found before any quota is used); record forwards
// to real AOAI and saves the exchange.

import { readBody } from '../http';
import { recordedUsage } from '../modes/record-replay';
import { uriPath } from '../modes/recordings/format';
import { settle, type Next, type Services, type Stage } from './exchange';

/** A stored resource (a stored response, the models list): its handler, with the route's parameters. */
export const serveResource: Next = (x) => x.route!.resource!(x, x.params ?? {});

/** Generate: the operation's generator, or the one an extension put in its place. */
export function generate({ generators }: Services): Next {
  return (x) => {
    const operation = x.operation!;
    const replaced = generators.get(operation);
    const response = replaced ? replaced(x.parsed, x) : operation.generate(x.parsed, x);
    if (x.timing) return response; // paced: the pace stage says when it has been handed over
    return settle(response, (r) => {
      x.observer?.answered(x, r.status, Date.now());
      return r;
    });
  };
}

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
    if (x.observer) {
      x.usage = recordedUsage(x.recorded!);
      x.observer.answered(x, response.status, Date.now());
    }
    return response;
  };
}

/** Record: a transparent proxy; the upstream judges api-version, deployment and limits. */
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
