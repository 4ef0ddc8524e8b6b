// A chat completion in AOAI's exact shape: the JSON body, and the stream's events (Azure's
// prompt-filter event, role chunks, content or tool-call chunks, finish and usage chunks).

import { jsonResponse, TOKEN_STEP } from '../../http';
import { answerAfterTokens, streamAnswer, tokenPace, tokenSteps } from '../pacing';
import type { RequestContext } from '../operation';
import { randomId } from '../../random';
import type { Json } from '../../validate';
import { choiceFilterResults, promptFilterResults, splitTokens, systemFingerprint, usage } from '../common';
import type { ChatCompletion, Choice } from './generate';
import type { ChatCompletionRequest } from './request';

function message(choice: Choice): Json {
  if (choice.toolCall) {
    const call = choice.toolCall;
    return {
      annotations: [],
      content: null,
      refusal: null,
      role: 'assistant',
      tool_calls: [{ function: { arguments: call.argumentPieces.join(''), name: call.name }, id: call.id, type: 'function' }],
    };
  }
  return { annotations: [], content: choice.pieces.join(''), refusal: null, role: 'assistant' };
}

export function chatCompletionBody(completion: ChatCompletion, ctx: RequestContext): Json {
  const model = ctx.deployment.model;
  const filters = choiceFilterResults(model);
  return {
    choices: completion.choices.map((c) => ({
      content_filter_results: filters,
      finish_reason: c.finishReason,
      index: c.index,
      logprobs: c.logprobs ? { content: c.logprobs, refusal: null } : null,
      message: message(c),
    })),
    created: completion.created,
    id: completion.id,
    model: model.version,
    object: 'chat.completion',
    prompt_filter_results: promptFilterResults(),
    system_fingerprint: systemFingerprint(model),
    usage: completion.usage,
  };
}

/**
 * AOAI's stream: the prompt-filter event, per choice a role chunk, content (or tool-call) chunks
 * interleaved across choices, a finish chunk per choice, the usage chunk when asked. Each chunk is
 * a pre-serialised prefix + the token's JSON string + a per-choice suffix.
 */
export function* chatCompletionEvents(completion: ChatCompletion, req: ChatCompletionRequest, ctx: RequestContext): Generator<string> {
  const model = ctx.deployment.model;
  const tail =
    `,"created":${completion.created},"id":"${completion.id}","model":${JSON.stringify(model.version)},` +
    `"object":"chat.completion.chunk","system_fingerprint":"${systemFingerprint(model)}"${req.includeUsage ? ',"usage":null' : ''}}`;
  const filters = JSON.stringify(choiceFilterResults(model));
  const chunk = (index: number, delta: string, finish = 'null', choiceFilters = '{}', logprobs = 'null') =>
    `{"choices":[{"content_filter_results":${choiceFilters},"delta":${delta},"finish_reason":${finish},"index":${index},"logprobs":${logprobs}}]${tail}`;

  // Token step 1 (due at TTFT): the prompt-filter event, the role chunks and the first tokens.
  yield TOKEN_STEP;
  yield JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilterResults() });
  for (const c of completion.choices) {
    yield chunk(c.index, c.toolCall ? '{"content":null,"refusal":null,"role":"assistant"}' : '{"content":"","refusal":null,"role":"assistant"}');
    if (c.toolCall) {
      const call = c.toolCall;
      yield chunk(c.index, `{"tool_calls":[{"function":{"arguments":"","name":${JSON.stringify(call.name)}},"id":"${call.id}","index":0,"type":"function"}]}`);
    }
  }
  const longest = Math.max(0, ...completion.choices.map((c) => (c.toolCall ? c.toolCall.argumentPieces.length : c.pieces.length)));
  for (let t = 0; t < longest; t++) {
    if (t > 0) yield TOKEN_STEP;
    for (const c of completion.choices) {
      if (c.toolCall) {
        const piece = c.toolCall.argumentPieces[t];
        if (piece !== undefined) yield chunk(c.index, `{"tool_calls":[{"function":{"arguments":${JSON.stringify(piece)}},"index":0}]}`);
      } else if (t < c.pieces.length) {
        const logprobs = c.logprobs ? `{"content":[${JSON.stringify(c.logprobs[t])}],"refusal":null}` : 'null';
        yield chunk(c.index, `{"content":${JSON.stringify(c.pieces[t])}}`, 'null', filters, logprobs);
      }
    }
  }
  for (const c of completion.choices) yield chunk(c.index, '{}', `"${c.finishReason}"`);
  if (req.includeUsage) {
    yield `{"choices":[],"created":${completion.created},"id":"${completion.id}","model":${JSON.stringify(model.version)},` +
      `"object":"chat.completion.chunk","system_fingerprint":"${systemFingerprint(model)}","usage":${JSON.stringify(completion.usage)}}`;
  }
}

/** A chat answer with given content, in AOAI's shape, streamed or not as asked (for extensions). */
export function chatAnswer(
  req: ChatCompletionRequest,
  ctx: RequestContext,
  content: string,
  finishReason: 'stop' | 'length' = 'stop',
): Response | Promise<Response> {
  const pieces = splitTokens(content, ctx.deployment.model.encoding);
  const choices: Choice[] = Array.from({ length: req.n }, (_, index) => ({ index, pieces, finishReason, completionTokens: pieces.length }));
  return respond(
    {
      id: 'chatcmpl-' + randomId(29),
      created: Math.floor(ctx.now / 1000),
      choices,
      usage: usage(req.promptTokens, pieces.length * req.n),
    },
    req,
    ctx,
  );
}

export function respond(completion: ChatCompletion, req: ChatCompletionRequest, ctx: RequestContext): Response | Promise<Response> {
  ctx.usage = { promptTokens: completion.usage.prompt_tokens, completionTokens: completion.usage.completion_tokens };
  const pace = tokenPace(ctx);
  const steps = tokenSteps(completion.choices.map((c) => (c.toolCall ? c.toolCall.argumentPieces.length : c.pieces.length)));
  if (req.stream) return streamAnswer(ctx, chatCompletionEvents(completion, req, ctx), pace, steps);
  return answerAfterTokens(ctx, pace, steps, () => jsonResponse(200, chatCompletionBody(completion, ctx), ctx.headers));
}
