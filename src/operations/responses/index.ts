// POST /openai/responses (and /openai/v1/responses, /openai/deployments/{d}/responses): the
// Responses API operation. Request (request.ts), generator (generate.ts), builders (respond.ts);
// stored responses (store.ts) are what GET, cancel and previous_response_id read (actions.ts).

import { responseStoreUnavailable } from '../../errors';
import { jsonResponse } from '../../http';
import { lastStepAt } from '../../pacing/stream';
import type { Json } from '../../validate';
import type { Operation, RequestContext } from '../operation';
import { answerAfterTokens, streamAnswer, tokenPace } from '../pacing';
import { generateResponse, type GeneratedResponse } from './generate';
import { parseResponsesRequest, type ResponsesRequest } from './request';
import { responseEvents, responseObject, responseSteps } from './respond';

export type { ResponsesRequest } from './request';

async function save(ctx: RequestContext, gen: GeneratedResponse, req: ResponsesRequest, final: Json, completesAt: number): Promise<void> {
  try {
    await ctx.responses.put(gen.id, { response: final, conversation: req.conversation, completesAt });
  } catch (err) {
    throw responseStoreUnavailable((err as Error).message);
  }
}

async function respond(req: ResponsesRequest, ctx: RequestContext): Promise<Response> {
  const gen = generateResponse(req, ctx);
  ctx.usage = { promptTokens: gen.inputTokens, completionTokens: gen.outputTokens };
  const pace = tokenPace(ctx);
  const steps = responseSteps(gen);
  // Stored before the first byte goes out, with the time it completes: a poll from any instance
  // sees it in progress until then.
  const final = responseObject(gen, req, ctx);
  if (req.store) await save(ctx, gen, req, final, pace ? lastStepAt(pace, steps) : Date.now());
  if (req.background) {
    ctx.timing?.done();
    return jsonResponse(200, responseObject(gen, req, ctx, 'queued'), ctx.headers);
  }
  if (req.stream) return streamAnswer(ctx, responseEvents(gen, req, ctx, final), pace, steps, ctx.headers, 'typed');
  return answerAfterTokens(ctx, pace, steps, () => jsonResponse(200, final, ctx.headers));
}

export const responses: Operation<ResponsesRequest> = {
  kind: 'chat',
  aoaiName: 'responses',
  operationId: 'Responses_Create',
  parse: parseResponsesRequest,
  cost(req, ctx) {
    const { costModel, defaultMaxTokens } = ctx.config.rateLimits;
    return costModel === 'python' ? (req.maxOutputTokens ?? 16) : req.promptTokens + (req.maxOutputTokens ?? defaultMaxTokens);
  },
  generate: respond,
};
