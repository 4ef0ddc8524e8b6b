// The stored-response routes: GET /responses/{id}, DELETE, GET .../input_items and POST
// .../cancel. A background response's status follows from its stored completion time, so every
// instance answers a poll alike.

import { responseNotCancellable, responseNotFound, responseStoreUnavailable } from '../../errors';
import { jsonResponse } from '../../http';
import type { Json } from '../../validate';
import type { ResourceContext, ResourceHandler } from '../operation';
import type { StoredResponse } from './store';

async function find(ctx: ResourceContext, id: string): Promise<StoredResponse> {
  let stored: StoredResponse | undefined;
  try {
    stored = await ctx.responses.get(id);
  } catch (err) {
    throw responseStoreUnavailable((err as Error).message);
  }
  if (!stored) throw responseNotFound(id);
  return stored;
}

/** The response as a poll sees it now: cancelled, still in progress, or complete. */
function currentView(stored: StoredResponse, now = Date.now()): Json {
  const response = stored.response;
  if (stored.cancelledAt !== undefined) return { ...response, status: 'cancelled', output: [], usage: null, completed_at: null };
  if (now < stored.completesAt) return { ...response, status: 'in_progress', output: [], usage: null, completed_at: null };
  return response;
}

export const getResponse: ResourceHandler = async (ctx, { id }) => jsonResponse(200, currentView(await find(ctx, id)), ctx.headers);

export const deleteResponse: ResourceHandler = async (ctx, { id }) => {
  await find(ctx, id);
  await ctx.responses.delete(id);
  return jsonResponse(200, { id, object: 'response', deleted: true }, ctx.headers);
};

export const listInputItems: ResourceHandler = async (ctx, { id }) => {
  const stored = await find(ctx, id);
  const order = new URL(ctx.request.url).searchParams.get('order') === 'asc' ? 'asc' : 'desc';
  const items = order === 'asc' ? stored.conversation : [...stored.conversation].reverse();
  const data = items.filter((item) => typeof item.id === 'string');
  return jsonResponse(200, { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: false }, ctx.headers);
};

export const cancelResponse: ResourceHandler = async (ctx, { id }) => {
  const stored = await find(ctx, id);
  if (stored.response.background !== true) throw responseNotCancellable('Only responses created with background=true can be cancelled.');
  if (stored.cancelledAt === undefined) {
    if (Date.now() >= stored.completesAt) throw responseNotCancellable('Cannot cancel a completed response.');
    stored.cancelledAt = Date.now();
    try {
      await ctx.responses.put(id, stored);
    } catch (err) {
      throw responseStoreUnavailable((err as Error).message);
    }
  }
  return jsonResponse(200, currentView(stored), ctx.headers);
};
