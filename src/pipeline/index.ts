// The path of one AOAI request, in order. Each stage is a module of this folder (or a mode's);
// a mode is the stage that answers. Read top to bottom: this is everything a request meets.

import { failureResponse } from '../http';
import { admit, chargeEventDay } from './admit';
import { findRecording, generate, record, replay, serveResource } from './answer';
import { authenticate } from './authenticate';
import { compose, type Exchange, type Next, type Services, type Stage } from './exchange';
import { guard } from './guard';
import { observe } from './observe';
import { pace } from './pace';
import { limitEventTokens, parse } from './parse';
import { checkApiVersion, nameFromBody, resolve } from './resolve';

export interface Pipelines {
  /** A model call on a route of the table (the route stage: router.ts), in the current mode. */
  operation: Record<'generate' | 'replay' | 'record', Next>;
  /** A stored resource of generate mode (stored responses, the models list). */
  resource: Next;
  /** Any other /openai/ path, and resources in record and replay: forwarded, or answered from a recording. */
  other: Record<'replay' | 'record', Next>;
}

/** Every way out of a pipeline is an answer: a refusal anywhere becomes AOAI's error body (observed, past observe). */
const refuse = (x: Exchange, err: unknown) => {
  x.observer?.refused(x, err);
  return failureResponse(err, x.headers);
};
/** A resource route's api-version rule (model calls check theirs in resolve). */
const versioned: Stage = (x, next) => {
  checkApiVersion(x.route!.apiVersions, x.apiVersion);
  return next(x);
};

const answerErrors: Stage = (x, next) => {
  try {
    const response = next(x);
    return response instanceof Promise ? response.catch((err: unknown) => refuse(x, err)) : response;
  } catch (err) {
    return refuse(x, err);
  }
};

export function pipelines(s: Services): Pipelines {
  const [who, named, which, early, watch, cap, day] = [
    authenticate(s),
    nameFromBody(s),
    resolve(s),
    guard(s),
    observe(s),
    limitEventTokens(s),
    chargeEventDay(s),
  ];
  return {
    operation: {
      // route → authenticate → resolve → guard → observe → read and parse → admit → pace → answer
      generate: compose([answerErrors, who, named, which, early, watch, cap, day, parse(), admit(s), pace(s)], generate(s)),
      replay: compose([answerErrors, who, named, which, early, watch, cap, findRecording(s), day, parse(), admit(s)], replay(s)),
      // A transparent proxy: the real service judges api-version, deployment and limits.
      record: compose([answerErrors, who, named, cap, day], record(s)),
    },
    resource: compose([answerErrors, who, versioned], serveResource),
    other: {
      replay: compose([answerErrors, who, day, findRecording(s)], replay(s)),
      record: compose([answerErrors, who, day], record(s)),
    },
  };
}
