// A Responses answer, generated with the chat generator (same text, JSON and tool-call rules):
// a reasoning item on reasoning models, then a message or a function call, cut short with
// status `incomplete` when max_output_tokens runs out.

import type { Json } from '../../validate';
import { drawLength } from '../../content/text';
import { mathRng } from '../../random';
import { generateChatCompletion, shouldCallTool } from '../chat-completions/generate';
import type { ChatCompletionRequest } from '../chat-completions/request';
import type { RequestContext } from '../operation';
import { chatMessages, itemId, type ResponsesRequest } from './request';

/** Reasoning tokens a reasoning model spends per effort (simulated; the real count varies). */
const REASONING_TOKENS: Record<string, number> = { minimal: 0, low: 64, medium: 192, high: 768 };

export interface OutputItem {
  item: Json;
  /** The text (message) or arguments (function call), one token per piece: what the stream sends. */
  pieces: string[];
}

export interface GeneratedResponse {
  id: string;
  createdAt: number;
  status: 'completed' | 'incomplete';
  output: OutputItem[];
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

export function generateResponse(req: ResponsesRequest, ctx: RequestContext): GeneratedResponse {
  const reasoningTokens = Math.min(REASONING_TOKENS[req.reasoning.effort ?? ''] ?? 0, req.maxOutputTokens ?? Infinity);
  const budget = req.maxOutputTokens === undefined ? undefined : req.maxOutputTokens - reasoningTokens;
  const output: OutputItem[] = [];
  if (ctx.deployment.model.reasoning) {
    const summary = req.reasoning.summary ? [{ type: 'summary_text', text: 'Considered the request and planned a short answer.' }] : [];
    output.push({ item: { id: itemId('rs'), type: 'reasoning', summary }, pieces: [] });
  }
  let status: GeneratedResponse['status'] = 'completed';
  let outputTokens = reasoningTokens;
  if (budget === undefined || budget > 0) {
    const chatRequest = asChatRequest(req, budget);
    // A text answer is as long as it would be; max_output_tokens only cuts it (chat's max_tokens
    // sets the length, as the Python simulator does). JSON and tool calls are cut by the budget.
    const text = req.format.type === 'text' && !shouldCallTool(chatRequest);
    let cut = false;
    if (text) {
      const model = ctx.deployment.model;
      const room = Math.max(1, Math.min(model.maxOutputTokens, model.contextWindow - req.promptTokens));
      const length = drawLength(mathRng, ctx.config.completionTokens.mean, ctx.config.completionTokens.stdDev, room);
      cut = budget !== undefined && length > budget;
      chatRequest.maxTokens = cut ? budget : length;
    }
    const choice = generateChatCompletion(chatRequest, ctx).choices[0];
    outputTokens += choice.completionTokens;
    if (text ? cut : choice.finishReason === 'length') status = 'incomplete';
    const itemStatus = status === 'completed' ? 'completed' : 'incomplete';
    if (choice.toolCall) {
      const call = choice.toolCall;
      output.push({
        item: { id: itemId('fc'), type: 'function_call', status: itemStatus, arguments: call.argumentPieces.join(''), call_id: call.id, name: call.name },
        pieces: call.argumentPieces,
      });
    } else {
      output.push({
        item: {
          id: itemId('msg'),
          type: 'message',
          status: itemStatus,
          content: [{ type: 'output_text', annotations: [], logprobs: [], text: choice.pieces.join('') }],
          role: 'assistant',
        },
        pieces: choice.pieces,
      });
    }
  } else {
    status = 'incomplete';
  }
  return {
    id: itemId('resp'),
    createdAt: Math.floor(ctx.now / 1000),
    status,
    output,
    inputTokens: req.promptTokens,
    outputTokens,
    reasoningTokens,
  };
}

/** The same request as chat completions sees it: the chat generator decides text or tool call. */
function asChatRequest(req: ResponsesRequest, maxTokens: number | undefined): ChatCompletionRequest {
  return {
    messages: chatMessages(req.instructions, req.conversation),
    maxTokens,
    n: 1,
    stream: req.stream,
    includeUsage: false,
    stop: [],
    logprobs: false,
    topLogprobs: 0,
    responseFormat: req.format,
    tools: req.tools,
    toolChoice: req.toolChoice,
    promptTokens: req.promptTokens,
  };
}
