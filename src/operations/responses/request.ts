// The Responses API request (POST /openai/responses, /openai/v1/responses): its type, AOAI's
// validation (each refusal a 400 naming the parameter), the earlier turns of previous_response_id,
// and the input tokens of the whole conversation, counted with the model's encoding.

import { countChatPromptTokens } from '../../content/tokens';
import { longStrings, withLongCounts } from '../../content/long-counts';
import { invalidRequest, invalidType, invalidValue, missingParameter, responseStoreUnavailable, unsupportedParameter } from '../../errors';
import { decodeUtf8 } from '../../http';
import { uuid } from '../../random';
import { isObject, optBool, optEnum, optInt, optNumber, optObject, parseJsonObject, type Json } from '../../validate';
import type { ResponseFormat, ToolDefinition } from '../chat-completions';
import { checkCompletionBudget, checkStrictSchema, countingLimit } from '../common';
import { requestBody, type RequestContext } from '../operation';

export interface ResponsesRequest {
  /** Every item before the answer: earlier turns, then this request's input (ids added). */
  conversation: Json[];
  instructions: string | null;
  maxOutputTokens?: number;
  format: ResponseFormat;
  tools: ToolDefinition[];
  /** As sent, echoed in the response. */
  toolsEcho: Json[];
  toolChoice: 'none' | 'auto' | 'required' | { name: string };
  parallelToolCalls: boolean;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  background: boolean;
  stream: boolean;
  previousResponseId: string | null;
  metadata: Json;
  user: string | null;
  temperature: number;
  topP: number;
  /** Input tokens of the conversation (earlier turns included, as the service bills them). */
  promptTokens: number;
}

const ROLES = ['user', 'assistant', 'system', 'developer'] as const;
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** Tool types the real service hosts and a simulator cannot: refused with a 400. */
const HOSTED_TOOLS = ['web_search', 'web_search_preview', 'file_search', 'code_interpreter', 'computer_use_preview', 'mcp', 'image_generation', 'local_shell'];
const EFFORTS = ['minimal', 'low', 'medium', 'high'] as const;

const hex8 = () => ((Math.random() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
/** An id as the service makes them: a prefix and 48 hex digits (a UUID's 32, then 16 more). */
export const itemId = (prefix: string) => `${prefix}_${uuid().replaceAll('-', '')}${hex8()}${hex8()}`;

export async function parseResponsesRequest(ctx: RequestContext): Promise<ResponsesRequest> {
  const body = parseJsonObject(decodeUtf8(await requestBody(ctx, ctx.config.maxRequestBodyBytes)));
  const model = ctx.deployment.model;
  const input = readInput(body);
  const instructions = body.instructions === undefined || body.instructions === null ? null : body.instructions;
  if (instructions !== null && typeof instructions !== 'string') throw invalidType('instructions', 'a string', instructions);

  const temperature = optNumber(body, 'temperature', 0, 2);
  const topP = optNumber(body, 'top_p', 0, 1);
  if (model.reasoning) {
    for (const [param, value] of [
      ['temperature', temperature],
      ['top_p', topP],
    ] as const) {
      if (value !== undefined) throw unsupportedParameter(param, `Unsupported parameter: '${param}' is not supported with this model.`);
    }
  }
  const reasoningIn = optObject(body, 'reasoning');
  if (reasoningIn && !model.reasoning) {
    throw unsupportedParameter('reasoning.effort', "Unsupported parameter: 'reasoning.effort' is not supported with this model.");
  }
  const effort = reasoningIn ? (optEnum(reasoningIn, 'effort', EFFORTS) ?? null) : null;
  const summary = reasoningIn ? (optEnum(reasoningIn, 'summary', ['auto', 'concise', 'detailed'] as const) ?? null) : null;

  const maxOutputTokens = optInt(body, 'max_output_tokens', 16);
  const store = optBool(body, 'store') ?? true;
  const background = optBool(body, 'background') ?? false;
  if (background && !store) throw invalidValue('background', "Invalid value for 'background': background mode requires 'store' to be true.");
  const metadata = optObject(body, 'metadata') ?? {};
  if (Object.keys(metadata).length > 16) throw invalidValue('metadata', "Invalid 'metadata': too many properties. Expected at most 16 properties.");
  const user = body.user === undefined || body.user === null ? null : String(body.user);

  const { tools, toolsEcho } = readTools(body);
  const toolChoice = readToolChoice(body, tools);
  const format = readFormat(body, instructions, input);

  const previousResponseId = typeof body.previous_response_id === 'string' ? body.previous_response_id : null;
  if (body.previous_response_id !== undefined && body.previous_response_id !== null && previousResponseId === null) {
    throw invalidType('previous_response_id', 'a string', body.previous_response_id);
  }
  const earlier = previousResponseId ? await earlierTurns(ctx, previousResponseId) : [];
  const conversation = [...earlier, ...input];
  const messages = chatMessages(instructions, conversation);
  const promptTokens = await withLongCounts(longStrings(messages), model.encoding, countingLimit(model), () =>
    countChatPromptTokens(messages, tools.length ? chatTools(tools) : undefined, model.encoding, countingLimit(model)),
  );
  checkCompletionBudget(model, promptTokens, maxOutputTokens, 'max_output_tokens', 'input');

  return {
    conversation,
    instructions,
    maxOutputTokens,
    format,
    tools,
    toolsEcho,
    toolChoice,
    parallelToolCalls: optBool(body, 'parallel_tool_calls') ?? true,
    reasoning: { effort: model.reasoning ? (effort ?? 'medium') : null, summary },
    store,
    background,
    stream: optBool(body, 'stream') ?? false,
    previousResponseId,
    metadata,
    user,
    temperature: temperature ?? 1,
    topP: topP ?? 1,
    promptTokens,
  };
}

/** `input` as items: a string is one user message; every item gets an id, as the service lists them. */
function readInput(body: Json): Json[] {
  const input = body.input;
  if (input === undefined || input === null) throw missingParameter('input');
  if (typeof input === 'string') return [{ id: itemId('msg'), type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  if (!Array.isArray(input)) throw invalidType('input', 'a string or an array of input items', input);
  return input.map((item, i) => {
    const param = `input[${i}]`;
    if (!isObject(item)) throw invalidType(param, 'an object', item);
    const type = item.type ?? 'message';
    if (type === 'message') {
      if (!(ROLES as readonly unknown[]).includes(item.role)) {
        throw invalidValue(`${param}.role`, `Invalid value: '${String(item.role)}'. Supported values are: ${ROLES.map((r) => `'${r}'`).join(', ')}.`);
      }
      const content = item.content;
      if (typeof content === 'string')
        return { id: itemId('msg'), type, role: item.role, content: [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: content }] };
      if (!Array.isArray(content)) throw invalidType(`${param}.content`, 'a string or an array of content parts', content ?? null);
      content.forEach((part, j) => {
        if (!isObject(part) || typeof part.type !== 'string') throw invalidType(`${param}.content[${j}]`, 'an object with a type', part);
        if ((part.type === 'input_text' || part.type === 'output_text') && typeof part.text !== 'string') throw missingParameter(`${param}.content[${j}].text`);
      });
      return { id: itemId('msg'), ...item, type };
    }
    if (type === 'function_call') {
      for (const field of ['call_id', 'name', 'arguments']) if (typeof item[field] !== 'string') throw missingParameter(`${param}.${field}`);
      return { id: itemId('fc'), ...item };
    }
    if (type === 'function_call_output') {
      if (typeof item.call_id !== 'string') throw missingParameter(`${param}.call_id`);
      if (item.output === undefined) throw missingParameter(`${param}.output`);
      return { id: itemId('fco'), ...item };
    }
    if (type === 'reasoning' || type === 'item_reference') return item;
    throw invalidValue(
      `${param}.type`,
      `Invalid value: '${String(type)}'. Supported values are: 'message', 'function_call', 'function_call_output', 'reasoning' and 'item_reference'.`,
    );
  });
}

function readTools(body: Json): { tools: ToolDefinition[]; toolsEcho: Json[] } {
  const raw = body.tools;
  if (raw === undefined || raw === null) return { tools: [], toolsEcho: [] };
  if (!Array.isArray(raw)) throw invalidType('tools', 'an array', raw);
  if (raw.length > 128)
    throw invalidValue(
      'tools',
      `Invalid 'tools': array too long. Expected an array with maximum length 128, but got an array with length ${raw.length} instead.`,
    );
  const tools = raw.map((tool, i): ToolDefinition => {
    const param = `tools[${i}]`;
    if (!isObject(tool)) throw invalidType(param, 'an object', tool);
    if (HOSTED_TOOLS.includes(String(tool.type))) {
      throw invalidValue(`${param}.type`, `Tool type '${String(tool.type)}' is not supported by this simulator; only 'function' tools are.`);
    }
    if (tool.type !== 'function') throw invalidValue(`${param}.type`, `Invalid value: '${String(tool.type)}'. Supported values are: 'function'.`);
    if (typeof tool.name !== 'string' || !FUNCTION_NAME.test(tool.name)) {
      throw invalidValue(
        `${param}.name`,
        `Invalid '${param}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
      );
    }
    if (tool.parameters !== undefined && tool.parameters !== null && !isObject(tool.parameters))
      throw invalidType(`${param}.parameters`, 'an object', tool.parameters);
    if (tool.strict === true) checkStrictSchema('function', tool.name, tool.parameters, `${param}.parameters`);
    return {
      name: tool.name,
      description: typeof tool.description === 'string' ? tool.description : undefined,
      parameters: (tool.parameters as Json | undefined) ?? undefined,
    };
  });
  const toolsEcho = (raw as Json[]).map((t) => ({ type: 'function', description: null, parameters: null, strict: true, ...t }));
  return { tools, toolsEcho };
}

function readToolChoice(body: Json, tools: ToolDefinition[]): ResponsesRequest['toolChoice'] {
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return 'auto';
  if (choice === 'none' || choice === 'auto' || choice === 'required') {
    if (choice === 'required' && !tools.length)
      throw invalidValue('tool_choice', "Invalid value for 'tool_choice': 'required' needs at least one tool in 'tools'.");
    return choice;
  }
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') {
    const name = choice.name;
    if (!tools.some((t) => t.name === name))
      throw invalidValue('tool_choice', `Invalid value for 'tool_choice': no function named '${name}' was specified in the 'tools' parameter.`);
    return { name };
  }
  throw invalidValue('tool_choice', "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or {\"type\": \"function\", \"name\": ...}.");
}

function readFormat(body: Json, instructions: string | null, input: Json[]): ResponseFormat {
  const text = optObject(body, 'text');
  const format = text ? optObject(text, 'format') : undefined;
  if (!format) return { type: 'text' };
  const type = optEnum(format, 'type', ['text', 'json_object', 'json_schema'] as const);
  if (type === undefined) throw missingParameter('text.format.type');
  if (type === 'json_object') {
    if (!`${instructions ?? ''}${JSON.stringify(input)}`.toLowerCase().includes('json')) {
      throw invalidRequest("Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.", 'input', null);
    }
    return { type };
  }
  if (type === 'json_schema') {
    if (typeof format.name !== 'string') throw missingParameter('text.format.name');
    if (!isObject(format.schema)) throw missingParameter('text.format.schema');
    if (format.strict === true) checkStrictSchema('response_format', format.name, format.schema, 'text.format.schema');
    return { type, name: format.name, schema: format.schema };
  }
  return { type: 'text' };
}

/** The conversation before a previous response's answer, plus that answer: what a continuation carries. */
async function earlierTurns(ctx: RequestContext, id: string): Promise<Json[]> {
  let stored: Awaited<ReturnType<typeof ctx.responses.get>>;
  try {
    stored = await ctx.responses.get(id);
  } catch (err) {
    throw responseStoreUnavailable((err as Error).message);
  }
  if (!stored) throw invalidRequest(`Previous response with id '${id}' not found.`, 'previous_response_id', 'previous_response_not_found');
  return [...stored.conversation, ...((stored.response.output as Json[] | undefined) ?? [])];
}

/** The conversation as chat messages: what the prompt-token count (and the tool-call rule) reads. */
export function chatMessages(instructions: string | null, items: readonly Json[]): Json[] {
  const messages: Json[] = instructions ? [{ role: 'system', content: instructions }] : [];
  for (const item of items) {
    if (item.type === 'message') {
      const parts = (item.content as Json[]).map((p) =>
        p.type === 'input_image' ? { type: 'image_url', image_url: { url: String(p.image_url ?? '') } } : { type: 'text', text: String(p.text ?? '') },
      );
      messages.push({ role: item.role, content: parts });
    } else if (item.type === 'function_call') {
      messages.push({
        role: 'assistant',
        content: null,
        tool_calls: [{ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } }],
      });
    } else if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output) });
    }
  }
  return messages;
}

const chatTools = (tools: readonly ToolDefinition[]) =>
  tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
