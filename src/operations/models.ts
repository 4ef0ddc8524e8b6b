// GET /openai/models (Azure's shape, with capabilities) and GET /openai/v1/models (OpenAI's
// list): the configured deployments, then the catalogue's models.

import { MODELS, type ModelInfo } from '../catalogue';
import { modelNotFound } from '../errors';
import { jsonResponse } from '../http';
import type { Json } from '../validate';
import type { ResourceContext, ResourceHandler } from './operation';

// A fixed creation time: the catalogue does not change between instances or restarts.
const CREATED = 1_700_000_000;

const isV1 = (ctx: ResourceContext) => new URL(ctx.request.url).pathname.startsWith('/openai/v1/');

function entry(ctx: ResourceContext, id: string, model: ModelInfo, deployment: boolean): Json {
  if (isV1(ctx)) return { id, object: 'model', created: CREATED, owned_by: deployment ? 'organization-owner' : 'system' };
  const can = (kind: ModelInfo['operations'][number]) => model.operations.includes(kind);
  return {
    id,
    model: model.name,
    status: 'succeeded',
    capabilities: { fine_tune: false, inference: true, completion: can('completions'), chat_completion: can('chat'), embeddings: can('embeddings') },
    lifecycle_status: 'generally-available',
    deprecation: { inference: CREATED + 2 * 365 * 86_400 },
    created_at: CREATED,
    object: 'model',
  };
}

function entries(ctx: ResourceContext): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const d of ctx.config.deployments.values()) out.set(d.name, entry(ctx, d.name, d.model, true));
  for (const m of MODELS) if (!out.has(m.name)) out.set(m.name, entry(ctx, m.name, m, false));
  return out;
}

export const listModels: ResourceHandler = (ctx) => jsonResponse(200, { object: 'list', data: [...entries(ctx).values()] }, ctx.headers);

export const getModel: ResourceHandler = (ctx, { id }) => {
  const found = entries(ctx).get(id);
  if (!found) throw modelNotFound(id);
  return jsonResponse(200, found, ctx.headers);
};
