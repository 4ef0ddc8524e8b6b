// A chat completion's content, generated: per choice text (length, stop sequences, logprobs),
// a JSON answer (json_object, json_schema) or a tool call whose arguments fit the tool's schema.

import { generateFromSchema } from '../../content/json-schema';
import { jsonShapeIn } from '../../content/json-shape';
import type { Json } from '../../validate';
import type { RequestContext } from '../operation';
import { mathRng, randomId, seededRng, type Rng } from '../../random';
import { countTokens } from '../../content/tokens';
import { generateText, splitTokens, tokenLogprobs, usage, type FinishReason, type TokenLogprob, type Usage } from '../common';
import type { ChatCompletionRequest } from './request';

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments JSON, one token per piece. */
  argumentPieces: string[];
}

export interface Choice {
  index: number;
  /** Content, one token per piece (empty for a tool call). */
  pieces: string[];
  toolCall?: ToolCall;
  finishReason: FinishReason;
  completionTokens: number;
  logprobs?: TokenLogprob[];
}

export interface ChatCompletion {
  id: string;
  created: number;
  choices: Choice[];
  usage: Usage;
}

/** Same seed and request → same choices (stream and non-stream alike). */
function choiceRng(req: ChatCompletionRequest, ctx: RequestContext, index: number): Rng {
  if (req.seed === undefined) return mathRng;
  // `stop` only cuts the text, so it is not part of what the text is drawn from.
  return seededRng(JSON.stringify([req.seed, index, ctx.deployment.model.version, req.messages, req.maxTokens, req.responseFormat, req.tools, req.toolChoice]));
}

export function generateChatCompletion(req: ChatCompletionRequest, ctx: RequestContext): ChatCompletion {
  const choices: Choice[] = [];
  for (let i = 0; i < req.n; i++) choices.push(generateChoice(req, ctx, i, choiceRng(req, ctx, i)));
  const completionTokens = choices.reduce((sum, c) => sum + c.completionTokens, 0);
  return {
    id: 'chatcmpl-' + randomId(29),
    created: Math.floor(ctx.now / 1000),
    choices,
    usage: usage(req.promptTokens, completionTokens),
  };
}

export function shouldCallTool(req: ChatCompletionRequest): boolean {
  if (!req.tools.length || req.toolChoice === 'none') return false;
  if (req.toolChoice !== 'auto') return true;
  // Under 'auto', answer in text once a tool result is in, so agent loops end.
  return req.messages[req.messages.length - 1]?.role !== 'tool';
}

function generateChoice(req: ChatCompletionRequest, ctx: RequestContext, index: number, rng: Rng): Choice {
  const model = ctx.deployment.model;
  // A schema's value is cut to the token budget anyway: generate at most ~8 characters a token of it.
  const budget = () => ({ nodes: 5_000, chars: Math.min(200_000, 6 * (req.maxTokens ?? model.maxOutputTokens)) });
  const encoding = model.encoding;
  const cap = req.maxTokens;
  const truncate = (pieces: string[], overhead = 0): [string[], FinishReason | undefined] =>
    cap !== undefined && pieces.length + overhead > cap ? [pieces.slice(0, Math.max(0, cap - overhead)), 'length'] : [pieces, undefined];

  if (shouldCallTool(req)) {
    const tool =
      typeof req.toolChoice === 'object' ? req.tools.find((t) => t.name === (req.toolChoice as { name: string }).name)! : req.tools[rng.int(req.tools.length)];
    const args = JSON.stringify(generateFromSchema(tool.parameters ?? { type: 'object', properties: {} }, rng, budget()));
    const overhead = countTokens(tool.name, encoding) + 3;
    const [argumentPieces, cut] = truncate(splitTokens(args, encoding), overhead);
    return {
      index,
      pieces: [],
      finishReason: cut ?? 'tool_calls',
      toolCall: { id: 'call_' + randomId(24), name: tool.name, argumentPieces },
      completionTokens: Math.min(argumentPieces.length + overhead, cap ?? Infinity),
    };
  }

  const length = {
    maxTokens: cap,
    available: Math.max(1, Math.min(model.maxOutputTokens, model.contextWindow - req.promptTokens)),
    mean: ctx.config.completionTokens.mean,
    stdDev: ctx.config.completionTokens.stdDev,
  };
  let pieces: string[];
  let finishReason: FinishReason;
  let shape: Json | undefined;
  if (req.responseFormat.type === 'json_schema') {
    [pieces, finishReason = 'stop'] = truncate(splitTokens(JSON.stringify(generateFromSchema(req.responseFormat.schema, rng, budget())), encoding));
  } else if (req.responseFormat.type === 'json_object' && (shape = jsonShapeIn(req.messages))) {
    // The prompt shows the shape it wants (a schema or an example): answer in that shape.
    [pieces, finishReason = 'stop'] = truncate(splitTokens(JSON.stringify(generateFromSchema(shape, rng, budget())), encoding));
  } else if (req.responseFormat.type === 'json_object') {
    // A JSON answer about as long as a text one; valid JSON unless the cap is tiny.
    const target = cap ?? generateText(length, [], rng, encoding).pieces.length;
    const text = generateText({ ...length, maxTokens: Math.max(1, target - 6) }, [], rng, encoding).pieces.join('');
    [pieces, finishReason = 'stop'] = truncate(splitTokens(JSON.stringify({ answer: text }), encoding));
  } else {
    ({ pieces, finishReason } = generateText(length, req.stop, rng, encoding));
  }
  return {
    index,
    pieces,
    finishReason,
    completionTokens: pieces.length,
    logprobs: req.logprobs ? pieces.map((p) => tokenLogprobs(p, req.topLogprobs, rng)) : undefined,
  };
}
