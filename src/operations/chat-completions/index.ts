// POST /openai/deployments/{deployment}/chat/completions: the operation (parse, cost,
// generate). Its request (request.ts), generator (generate.ts) and response builders (respond.ts).

import type { Operation } from '../operation';
import { generateChatCompletion } from './generate';
import { parseChatCompletion, type ChatCompletionRequest } from './request';
import { respond } from './respond';

export type { ChatCompletionRequest, ResponseFormat, ToolDefinition } from './request';
export { chatAnswer } from './respond';

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
