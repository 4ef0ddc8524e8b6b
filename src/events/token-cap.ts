// An event's cap on tokens per request (EVENT_MAX_TOKENS): the request's max_tokens clamped to
// it (what generate mode answers and record mode forwards), or refused.

import { invalidValue } from '../errors';
import { decodeUtf8 } from '../http';

/**
 * Clamps max_tokens / max_completion_tokens to an event's cap, or refuses them ('reject'). A
 * request that sets neither is left alone, as the workshop proxy does.
 */
export function capMaxTokens(body: Uint8Array, cap: number, policy: 'clamp' | 'reject'): Uint8Array {
  let request: unknown;
  try {
    request = JSON.parse(decodeUtf8(body));
  } catch {
    return body; // the operation reports bad JSON itself
  }
  if (request === null || typeof request !== 'object' || Array.isArray(request)) return body;
  const fields = request as Record<string, unknown>;
  let changed = false;
  for (const field of ['max_tokens', 'max_completion_tokens', 'max_output_tokens']) {
    const value = fields[field];
    if (typeof value !== 'number' || value <= cap) continue;
    if (policy === 'reject') throw invalidValue(field, `Invalid '${field}': this event allows at most ${cap} tokens per request; got ${value}.`);
    fields[field] = cap;
    changed = true;
  }
  return changed ? new TextEncoder().encode(JSON.stringify(fields)) : body;
}
