// A Responses answer in the service's shape: the `response` object (also what is stored and
// polled), and the typed stream: created, in_progress, per item added / deltas / done, then
// completed or incomplete, each `event:` + `data:` with an increasing sequence_number.

import { TOKEN_STEP } from '../../http';
import type { Json } from '../../validate';
import type { RequestContext } from '../operation';
import type { GeneratedResponse } from './generate';
import type { ResponsesRequest } from './request';

export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'incomplete' | 'cancelled';

/** The response object at a status; before it is complete it has no output and no usage. */
export function responseObject(gen: GeneratedResponse, req: ResponsesRequest, ctx: RequestContext, status: ResponseStatus = gen.status): Json {
  const done = status === 'completed' || status === 'incomplete';
  return {
    id: gen.id,
    object: 'response',
    created_at: gen.createdAt,
    status,
    background: req.background,
    completed_at: done ? Math.floor(Date.now() / 1000) : null,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: req.instructions,
    max_output_tokens: req.maxOutputTokens ?? null,
    max_tool_calls: null,
    model: ctx.deployment.model.version,
    output: done ? gen.output.map((o) => o.item) : [],
    parallel_tool_calls: req.parallelToolCalls,
    previous_response_id: req.previousResponseId,
    prompt_cache_key: null,
    reasoning: req.reasoning,
    safety_identifier: null,
    service_tier: 'default',
    store: req.store,
    temperature: req.temperature,
    text: {
      format:
        req.format.type === 'json_schema' ? { type: 'json_schema', name: req.format.name, schema: req.format.schema, strict: true } : { type: req.format.type },
      verbosity: 'medium',
    },
    tool_choice: typeof req.toolChoice === 'object' ? { type: 'function', name: req.toolChoice.name } : req.toolChoice,
    tools: req.toolsEcho,
    top_logprobs: 0,
    top_p: req.topP,
    truncation: 'disabled',
    usage: done ? usageOf(gen) : null,
    user: req.user,
    metadata: req.metadata,
  };
}

const usageOf = (gen: GeneratedResponse) => ({
  input_tokens: gen.inputTokens,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: gen.outputTokens,
  output_tokens_details: { reasoning_tokens: gen.reasoningTokens },
  total_tokens: gen.inputTokens + gen.outputTokens,
});

/** Token steps of the stream: the longest item's pieces, at least one. */
export const responseSteps = (gen: GeneratedResponse) => Math.max(1, ...gen.output.map((o) => o.pieces.length));

/**
 * The typed events; TOKEN_STEP before each token's delta (the first due at TTFT). `final` is the
 * complete response object. Each event is one template around pre-serialised parts: a stream
 * costs one JSON string per token, as chat's does.
 */
export function* responseEvents(gen: GeneratedResponse, req: ResponsesRequest, ctx: RequestContext, final: Json): Generator<string> {
  let sequence = 0;
  const event = (type: string, fields: string) => `event: ${type}\ndata: {"type":"${type}","sequence_number":${sequence++},${fields}}\n\n`;
  const inProgress = (item: Json) => {
    if (item.type === 'message') return { ...item, status: 'in_progress', content: [] };
    if (item.type === 'function_call') return { ...item, status: 'in_progress', arguments: '' };
    return item;
  };
  const progress = `"response":${JSON.stringify(responseObject(gen, req, ctx, 'in_progress'))}`;
  yield TOKEN_STEP;
  yield event('response.created', progress);
  yield event('response.in_progress', progress);
  let first = true;
  for (const [index, { item, pieces }] of gen.output.entries()) {
    const base = `"item_id":${JSON.stringify(item.id)},"output_index":${index}`;
    yield event('response.output_item.added', `"item":${JSON.stringify(inProgress(item))},"output_index":${index}`);
    if (item.type === 'message') {
      const part = (item.content as Json[])[0];
      yield event('response.content_part.added', `${base},"content_index":0,"part":${JSON.stringify({ ...part, text: '' })}`);
      for (const piece of pieces) {
        if (!first) yield TOKEN_STEP;
        first = false;
        yield event('response.output_text.delta', `${base},"content_index":0,"delta":${JSON.stringify(piece)},"logprobs":[]`);
      }
      yield event('response.output_text.done', `${base},"content_index":0,"text":${JSON.stringify(part.text)},"logprobs":[]`);
      yield event('response.content_part.done', `${base},"content_index":0,"part":${JSON.stringify(part)}`);
    } else if (item.type === 'function_call') {
      for (const piece of pieces) {
        if (!first) yield TOKEN_STEP;
        first = false;
        yield event('response.function_call_arguments.delta', `${base},"delta":${JSON.stringify(piece)}`);
      }
      yield event('response.function_call_arguments.done', `${base},"arguments":${JSON.stringify(item.arguments)},"name":${JSON.stringify(item.name)}`);
    }
    yield event('response.output_item.done', `"item":${JSON.stringify(item)},"output_index":${index}`);
  }
  yield event(gen.status === 'completed' ? 'response.completed' : 'response.incomplete', `"response":${JSON.stringify(final)}`);
}
