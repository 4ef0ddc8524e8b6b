// Stage: who is calling. The simulator key (api-key, or Authorization: Bearer) passes; any other
// key is tried as an event code (attendees), which may also limit the deployments they reach.
// The workshop proxy's clients send the code in `openai-event-code`: when it comes, it is the
// code (over api-key/Authorization), unless those carry the simulator key, which always wins.

import { timingSafeEqual } from 'node:crypto';
import { deploymentNotFound, unauthorized } from '../errors';
import type { EventIdentity } from '../events/directory';
import { entraVerifier, looksLikeJwt } from './entra';
import { settle, type Exchange, type Next, type Services, type Stage } from './exchange';

/** The workshop proxy's header for an attendee's event code. */
export const EVENT_CODE_HEADER = 'openai-event-code';

/** The key a client sent: the named header; for `api-key`, else `Authorization: Bearer`. */
function suppliedKey(request: Request, header = 'api-key'): string | null {
  const supplied = request.headers.get(header);
  if (supplied !== null || header !== 'api-key') return supplied;
  const authorization = request.headers.get('authorization');
  return authorization?.toLowerCase().startsWith('bearer ') ? authorization.slice(7).trim() : null;
}

/**
 * A check of the key against the simulator key. The comparison runs in constant time for a key
 * of the right length; a wrong length is refused at once (revealing only the length, as
 * Python's compare_digest does).
 */
export function keyChecker(apiKey: string, header = 'api-key'): (request: Request) => boolean {
  const expected = Buffer.from(apiKey, 'utf8');
  return (request) => {
    const supplied = suppliedKey(request, header);
    if (supplied === null) return false;
    const bytes = Buffer.from(supplied, 'utf8');
    return bytes.length === expected.length && timingSafeEqual(bytes, expected);
  };
}

/** An attendee may use the event's deployments only (a path without one reaches none). */
export function allowAttendee(x: Exchange): void {
  // (Names are checked against AOAI's pattern where the deployment is resolved.)
  const allowed = x.attendee?.event.deployments;
  if (allowed && (!x.deploymentName || !allowed.includes(x.deploymentName))) throw deploymentNotFound();
}

export function authenticate(services: Services): Stage {
  const admitAttendee = (x: Exchange, next: Next, attendee: EventIdentity) => {
    x.attendee = attendee;
    // Routes that name the deployment in the body check once it is read (nameFromBody).
    if (x.route?.deploymentFrom !== 'body') allowAttendee(x);
    return next(x);
  };
  const entra = services.config.entra && entraVerifier(services.config.entra);
  return (x, next) => {
    if (services.isAuthorized(x.request)) return next(x);
    const eventCode = x.request.headers.get(EVENT_CODE_HEADER)?.trim() || undefined;
    const supplied = suppliedKey(x.request);
    const directory = services.events();
    if (eventCode) {
      if (!directory) throw unauthorized();
      return settle(directory.authenticate(eventCode), (attendee) => admitAttendee(x, next, attendee));
    }
    // An Entra ID token (keys and event codes keep working beside it).
    if (entra && supplied && looksLikeJwt(supplied) && x.request.headers.has('authorization')) {
      return entra.verify(supplied, x.request).then(() => next(x));
    }
    if (!directory || !supplied) throw unauthorized();
    return settle(directory.authenticate(supplied), (attendee) => admitAttendee(x, next, attendee));
  };
}
