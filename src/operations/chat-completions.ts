// POST /openai/deployments/{deployment}/chat/completions

import { invalidRequest, invalidType, invalidValue, missingParameter, unsupportedParameter, unsupportedValue } from '../errors';
import { decodeUtf8, jsonResponse, TOKEN_STEP } from '../http';
import { answerAfterTokens, streamAnswer, tokenPace, tokenSteps } from './pacing';
import { generateFromSchema } from '../content/json-schema';
import { requestBody, type Operation, type RequestContext } from './operation';
import { mathRng, randomId, seededRng, type Rng } from '../random';
import { countChatPromptTokens, countTokens } from '../content/tokens';
import { isObject, optBool, optEnum, optInt, optNumber, optObject, optStop, parseJsonObject, type Json } from '../validate';
import {
  checkCompletionBudget,
  choiceFilterResults,
  generateText,
  promptFilterResults,
  splitTokens,
  systemFingerprint,
  tokenLogprobs,
  usage,
  type FinishReason,
  type TokenLogprob,
  type Usage,
} from './common';

// ---- Request ----

export interface ToolDefinition {
  name: string;
  description?: string;
  parameters?: Json;
}

export type ResponseFormat = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; name: string; schema: Json };

export interface ChatCompletionRequest {
  messages: Json[];
  /** max_completion_tokens, else max_tokens. */
  maxTokens?: number;
  n: number;
  stream: boolean;
  includeUsage: boolean;
  stop: string[];
  seed?: number;
  logprobs: boolean;
  topLogprobs: number;
  responseFormat: ResponseFormat;
  tools: ToolDefinition[];
  toolChoice: 'none' | 'auto' | 'required' | { name: string };
  promptTokens: number;
}

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export async function parseChatCompletion(ctx: RequestContext): Promise<ChatCompletionRequest> {
  const body = parseJsonObject(decodeUtf8(await requestBody(ctx, ctx.config.maxRequestBodyBytes)));
  const model = ctx.deployment.model;
  const messages = readMessages(body);

  const maxCompletionTokens = optInt(body, 'max_completion_tokens', 1);
  const maxTokensLegacy = optInt(body, 'max_tokens', 1);
  if (model.reasoning && maxTokensLegacy !== undefined) {
    throw unsupportedParameter('max_tokens', "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.");
  }
  const temperature = optNumber(body, 'temperature', 0, 2);
  if (model.reasoning && temperature !== undefined && temperature !== 1) {
    throw unsupportedValue(
      'temperature',
      `Unsupported value: 'temperature' does not support ${temperature} with this model. Only the default (1) value is supported.`,
    );
  }
  optNumber(body, 'top_p', 0, 1);
  optNumber(body, 'presence_penalty', -2, 2);
  optNumber(body, 'frequency_penalty', -2, 2);

  const stream = optBool(body, 'stream') ?? false;
  const streamOptions = optObject(body, 'stream_options');
  if (streamOptions && !stream) {
    throw invalidValue('stream_options', "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
  }
  const logprobs = optBool(body, 'logprobs') ?? false;
  const topLogprobs = optInt(body, 'top_logprobs', 0, 20);
  if (topLogprobs !== undefined && !logprobs) {
    throw invalidValue('top_logprobs', "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.");
  }
  const tools = readTools(body);
  const responseFormat = readResponseFormat(body, messages);
  const maxTokens = maxCompletionTokens ?? maxTokensLegacy;
  const promptTokens = countChatPromptTokens(messages, body.tools as unknown[] | undefined, model.encoding);
  checkCompletionBudget(model, promptTokens, maxTokens, maxCompletionTokens !== undefined ? 'max_completion_tokens' : 'max_tokens', 'messages');

  return {
    messages,
    maxTokens,
    n: optInt(body, 'n', 1, 128) ?? 1,
    stream,
    includeUsage: streamOptions?.include_usage === true,
    stop: optStop(body),
    seed: optInt(body, 'seed', Number.MIN_SAFE_INTEGER),
    logprobs,
    topLogprobs: topLogprobs ?? 0,
    responseFormat,
    tools,
    toolChoice: readToolChoice(body, tools),
    promptTokens,
  };
}

function readMessages(body: Json): Json[] {
  const messages = body.messages;
  if (messages === undefined || messages === null) throw missingParameter('messages');
  if (!Array.isArray(messages)) throw invalidType('messages', 'an array', messages);
  if (messages.length === 0)
    throw invalidValue('messages', "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.");
  messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    if (!isObject(m)) throw invalidType(param, 'an object', m);
    if (typeof m.role !== 'string') throw missingParameter(`${param}.role`);
    if (!(ROLES as readonly string[]).includes(m.role)) {
      throw invalidValue(`${param}.role`, `Invalid value: '${m.role}'. Supported values are: ${ROLES.map((r) => `'${r}'`).join(', ')}.`);
    }
    const content = m.content;
    const mayOmitContent = m.role === 'assistant' && (Array.isArray(m.tool_calls) || isObject(m.function_call));
    if (content === undefined || content === null) {
      if (!mayOmitContent) throw invalidType(`${param}.content`, 'a string or an array of content parts', content ?? null);
    } else if (typeof content !== 'string' && !Array.isArray(content)) {
      throw invalidType(`${param}.content`, 'a string or an array of content parts', content);
    } else if (Array.isArray(content)) {
      content.forEach((part, j) => {
        if (!isObject(part) || typeof part.type !== 'string') throw invalidType(`${param}.content[${j}]`, 'an object with a type', part);
      });
    }
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string') throw missingParameter(`${param}.tool_call_id`);
  });
  return messages as Json[];
}

function readTools(body: Json): ToolDefinition[] {
  const tools = body.tools;
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalidType('tools', 'an array', tools);
  if (tools.length > 128)
    throw invalidValue(
      'tools',
      `Invalid 'tools': array too long. Expected an array with maximum length 128, but got an array with length ${tools.length} instead.`,
    );
  return tools.map((tool, i) => {
    const param = `tools[${i}]`;
    if (!isObject(tool)) throw invalidType(param, 'an object', tool);
    if (tool.type !== 'function') throw invalidValue(`${param}.type`, `Invalid value: '${String(tool.type)}'. Supported values are: 'function'.`);
    const fn = tool.function;
    if (!isObject(fn)) throw missingParameter(`${param}.function`);
    if (typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) {
      throw invalidValue(
        `${param}.function.name`,
        `Invalid '${param}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
      );
    }
    if (fn.parameters !== undefined && !isObject(fn.parameters)) throw invalidType(`${param}.function.parameters`, 'an object', fn.parameters);
    return { name: fn.name, description: typeof fn.description === 'string' ? fn.description : undefined, parameters: fn.parameters as Json | undefined };
  });
}

function readToolChoice(body: Json, tools: ToolDefinition[]): ChatCompletionRequest['toolChoice'] {
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return tools.length ? 'auto' : 'none';
  if (!tools.length) throw invalidValue('tool_choice', "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.");
  if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
  if (isObject(choice) && isObject(choice.function) && typeof choice.function.name === 'string') {
    const name = choice.function.name;
    if (!tools.some((t) => t.name === name))
      throw invalidValue('tool_choice', `Invalid value for 'tool_choice': no function named '${name}' was specified in the 'tools' parameter.`);
    return { name };
  }
  throw invalidValue(
    'tool_choice',
    'Invalid value for \'tool_choice\': expected \'none\', \'auto\', \'required\' or {"type": "function", "function": {"name": ...}}.',
  );
}

function readResponseFormat(body: Json, messages: Json[]): ResponseFormat {
  const format = optObject(body, 'response_format');
  if (!format) return { type: 'text' };
  const type = optEnum(format, 'type', ['text', 'json_object', 'json_schema'] as const);
  if (type === undefined) throw missingParameter('response_format.type');
  if (type === 'json_object') {
    if (!JSON.stringify(messages).toLowerCase().includes('json')) {
      throw invalidRequest("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'messages', null);
    }
    return { type };
  }
  if (type === 'json_schema') {
    const spec = format.json_schema;
    if (!isObject(spec)) throw missingParameter('response_format.json_schema');
    if (typeof spec.name !== 'string') throw missingParameter('response_format.json_schema.name');
    if (spec.schema !== undefined && !isObject(spec.schema)) throw invalidType('response_format.json_schema.schema', 'an object', spec.schema);
    return { type, name: spec.name, schema: (spec.schema as Json | undefined) ?? { type: 'object' } };
  }
  return { type: 'text' };
}

// ---- Generation ----

interface ToolCall {
  id: string;
  name: string;
  /** The arguments JSON, one token per piece. */
  argumentPieces: string[];
}

interface Choice {
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

function shouldCallTool(req: ChatCompletionRequest): boolean {
  if (!req.tools.length || req.toolChoice === 'none') return false;
  if (req.toolChoice !== 'auto') return true;
  // Under 'auto', answer in text once a tool result is in, so agent loops end.
  return req.messages[req.messages.length - 1]?.role !== 'tool';
}

function generateChoice(req: ChatCompletionRequest, ctx: RequestContext, index: number, rng: Rng): Choice {
  const model = ctx.deployment.model;
  const encoding = model.encoding;
  const cap = req.maxTokens;
  const truncate = (pieces: string[], overhead = 0): [string[], FinishReason | undefined] =>
    cap !== undefined && pieces.length + overhead > cap ? [pieces.slice(0, Math.max(0, cap - overhead)), 'length'] : [pieces, undefined];

  if (shouldCallTool(req)) {
    const tool =
      typeof req.toolChoice === 'object' ? req.tools.find((t) => t.name === (req.toolChoice as { name: string }).name)! : req.tools[rng.int(req.tools.length)];
    const args = JSON.stringify(generateFromSchema(tool.parameters ?? { type: 'object', properties: {} }, rng));
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
  if (req.responseFormat.type === 'json_schema') {
    [pieces, finishReason = 'stop'] = truncate(splitTokens(JSON.stringify(generateFromSchema(req.responseFormat.schema, rng)), encoding));
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

// ---- Response ----

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

function respond(completion: ChatCompletion, req: ChatCompletionRequest, ctx: RequestContext): Response | Promise<Response> {
  ctx.usage = { promptTokens: completion.usage.prompt_tokens, completionTokens: completion.usage.completion_tokens };
  const pace = tokenPace(ctx);
  const steps = tokenSteps(completion.choices.map((c) => (c.toolCall ? c.toolCall.argumentPieces.length : c.pieces.length)));
  if (req.stream) return streamAnswer(ctx, chatCompletionEvents(completion, req, ctx), pace, steps);
  return answerAfterTokens(ctx, pace, steps, () => jsonResponse(200, chatCompletionBody(completion, ctx), ctx.headers));
}

export const chatCompletions: Operation<ChatCompletionRequest> = {
  kind: 'chat',
  aoaiName: 'chatCompletion',
  operationId: 'ChatCompletions_Create',
  parse: parseChatCompletion,
  cost(req, ctx) {
    const { costModel, defaultMaxTokens } = ctx.config.rateLimits;
    return costModel === 'python' ? (req.maxTokens ?? 16) : req.promptTokens + (req.maxTokens ?? defaultMaxTokens) * req.n;
  },
  generate: (req, ctx) => respond(generateChatCompletion(req, ctx), req, ctx),
};
