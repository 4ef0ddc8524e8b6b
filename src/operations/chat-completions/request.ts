// The chat completions request: its type, and AOAI's validation of the body (each refusal a
// 400 naming the parameter). Prompt tokens are counted here, with the model's encoding.

import { invalidRequest, invalidType, invalidValue, missingParameter, unsupportedParameter, unsupportedValue } from '../../errors';
import { decodeUtf8 } from '../../http';
import { requestBody, type RequestContext } from '../operation';
import { countChatPromptTokens } from '../../content/tokens';
import { longStrings, withLongCounts } from '../../content/long-counts';
import { isObject, optBool, optEnum, optInt, optNumber, optObject, optStop, parseJsonObject, type Json } from '../../validate';
import { checkCompletionBudget, checkStrictSchema, countingLimit } from '../common';

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
  const promptTokens = await withLongCounts(longStrings([messages, body.tools]), model.encoding, countingLimit(model), () =>
    countChatPromptTokens(messages, body.tools as unknown[] | undefined, model.encoding, countingLimit(model)),
  );
  checkCompletionBudget(model, promptTokens, maxTokens, maxCompletionTokens !== undefined ? 'max_completion_tokens' : 'max_tokens', 'messages');
  const n = optInt(body, 'n', 1, 128) ?? 1;
  // Without max_tokens an answer's length is drawn from COMPLETION_TOKENS_MEAN / _STD_DEV.
  const { mean, stdDev } = ctx.config.completionTokens;
  checkGenerationWork(n, maxTokens ?? Math.ceil(mean + 4 * stdDev), logprobs ? (topLogprobs ?? 0) + 1 : 1);

  return {
    messages,
    maxTokens,
    n,
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

/** Generated tokens (logprob entries included) one request may ask for: a bound on its memory and time. */
const MAX_GENERATED_ENTRIES = 2_000_000;

/**
 * n choices of up to `tokens` tokens, each with `entries` logprob entries: past the bound the
 * answer would take seconds and hundreds of MB (n 128, max_tokens 4096, top_logprobs 20 is 11M).
 * The simulator's own limit (AOAI's is not published); a 400 naming n.
 */
function checkGenerationWork(n: number, tokens: number, entries: number): void {
  const work = n * tokens * entries;
  if (work <= MAX_GENERATED_ENTRIES) return;
  throw invalidValue(
    'n',
    `Invalid 'n': ${n} choices of up to ${tokens} tokens${entries > 1 ? ` with ${entries - 1} top logprobs each` : ''} is more than this simulator generates for one request (${MAX_GENERATED_ENTRIES.toLocaleString('en-US')} tokens and logprobs); lower n, max_tokens or top_logprobs.`,
  );
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
    if (fn.strict === true) checkStrictSchema('function', fn.name, fn.parameters, `${param}.function.parameters`);
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
    if (spec.strict === true) checkStrictSchema('response_format', spec.name, spec.schema, 'response_format');
    return { type, name: spec.name, schema: (spec.schema as Json | undefined) ?? { type: 'object' } };
  }
  return { type: 'text' };
}
