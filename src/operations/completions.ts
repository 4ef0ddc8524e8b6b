// POST /openai/deployments/{deployment}/completions (legacy text completions)

import { invalidType, invalidValue, missingParameter } from '../errors';
import { decodeUtf8, jsonResponse, TOKEN_STEP } from '../http';
import { answerAfterTokens, streamAnswer, tokenPace, tokenSteps } from './pacing';
import { requestBody, type Operation, type RequestContext } from './operation';
import { mathRng, randomId, seededRng, type Rng } from '../random';
import { countTokens } from '../content/tokens';
import { longStrings, withLongCounts } from '../content/long-counts';
import { optBool, optInt, optNumber, optObject, optStop, parseJsonObject, type Json } from '../validate';
import { checkCompletionBudget, choiceFilterResults, countingLimit, generateText, promptFilterResults, tokenLogprobs, type FinishReason } from './common';

// OpenAI's documented default for this API.
const DEFAULT_MAX_TOKENS = 16;

export interface CompletionRequest {
  /** Each prompt as text (token-array prompts are decoded only for `echo`). */
  prompts: { text: string; tokens: number }[];
  maxTokens: number;
  n: number;
  stream: boolean;
  includeUsage: boolean;
  stop: string[];
  seed?: number;
  echo: boolean;
  logprobs?: number;
  promptTokens: number;
}

export async function parseCompletion(ctx: RequestContext): Promise<CompletionRequest> {
  const body = parseJsonObject(decodeUtf8(await requestBody(ctx, ctx.config.maxRequestBodyBytes)));
  const model = ctx.deployment.model;
  const prompts = await withLongCounts(longStrings(body.prompt), model.encoding, countingLimit(model), () =>
    readPrompts(body, model.encoding, countingLimit(model)),
  );
  const maxTokens = optInt(body, 'max_tokens', 1) ?? DEFAULT_MAX_TOKENS;
  const stream = optBool(body, 'stream') ?? false;
  const streamOptions = optObject(body, 'stream_options');
  if (streamOptions && !stream) throw invalidValue('stream_options', "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
  optNumber(body, 'temperature', 0, 2);
  optNumber(body, 'top_p', 0, 1);
  const n = optInt(body, 'n', 1, 128) ?? 1;
  const bestOf = optInt(body, 'best_of', 1, 20);
  if (bestOf !== undefined && bestOf < n) throw invalidValue('best_of', 'best_of must be greater than or equal to n.');
  const promptTokens = prompts.reduce((sum, p) => sum + p.tokens, 0);
  for (const p of prompts) checkCompletionBudget(model, p.tokens, maxTokens, 'max_tokens', 'prompt');
  return {
    prompts,
    maxTokens,
    n,
    stream,
    includeUsage: streamOptions?.include_usage === true,
    stop: optStop(body),
    seed: optInt(body, 'seed', Number.MIN_SAFE_INTEGER),
    echo: optBool(body, 'echo') ?? false,
    logprobs: optInt(body, 'logprobs', 0, 5),
    promptTokens,
  };
}

function readPrompts(body: Json, encoding: 'cl100k_base' | 'o200k_base', limit: number): CompletionRequest['prompts'] {
  const prompt = body.prompt;
  if (prompt === undefined || prompt === null) throw missingParameter('prompt');
  const isTokens = (v: unknown): v is number[] => Array.isArray(v) && v.every((t) => Number.isInteger(t));
  if (typeof prompt === 'string') return [{ text: prompt, tokens: countTokens(prompt, encoding, limit) }];
  if (isTokens(prompt) && prompt.length) return [{ text: '', tokens: prompt.length }];
  if (Array.isArray(prompt) && prompt.length) {
    if (prompt.every((p) => typeof p === 'string')) return (prompt as string[]).map((text) => ({ text, tokens: countTokens(text, encoding, limit) }));
    if (prompt.every(isTokens)) return (prompt as number[][]).map((t) => ({ text: '', tokens: t.length }));
  }
  throw invalidType('prompt', 'a string, an array of strings, an array of tokens or an array of token arrays', prompt);
}

interface Choice {
  index: number;
  promptIndex: number;
  pieces: string[];
  finishReason: FinishReason;
  rng: Rng;
}

function generateChoices(req: CompletionRequest, ctx: RequestContext): Choice[] {
  const model = ctx.deployment.model;
  const choices: Choice[] = [];
  req.prompts.forEach((prompt, p) => {
    for (let j = 0; j < req.n; j++) {
      const rng = req.seed === undefined ? mathRng : seededRng(JSON.stringify([req.seed, p, j, model.version, prompt.text, req.maxTokens]));
      const length = { maxTokens: req.maxTokens, available: req.maxTokens, mean: req.maxTokens, stdDev: 0 };
      const { pieces, finishReason } = generateText(length, req.stop, rng, model.encoding);
      choices.push({ index: p * req.n + j, promptIndex: p, pieces, finishReason, rng });
    }
  });
  return choices;
}

/** The legacy logprobs shape: parallel arrays. */
function legacyLogprobs(pieces: string[], top: number, rng: Rng): Json {
  const entries = pieces.map((p) => tokenLogprobs(p, top, rng));
  let offset = 0;
  return {
    text_offset: pieces.map((p) => {
      const at = offset;
      offset += p.length;
      return at;
    }),
    token_logprobs: entries.map((e) => e.logprob),
    tokens: pieces,
    top_logprobs: entries.map((e) => Object.fromEntries(e.top_logprobs.map((t) => [t.token, t.logprob]))),
  };
}

export const completions: Operation<CompletionRequest> = {
  kind: 'completions',
  aoaiName: 'completion',
  operationId: 'Completions_Create',
  parse: parseCompletion,
  cost(req, ctx) {
    return ctx.config.rateLimits.costModel === 'python' ? req.maxTokens : req.promptTokens + req.maxTokens * req.n * req.prompts.length;
  },
  generate(req, ctx) {
    const model = ctx.deployment.model;
    const choices = generateChoices(req, ctx);
    const id = 'cmpl-' + randomId(29);
    const created = Math.floor(ctx.now / 1000);
    const completionTokens = choices.reduce((sum, c) => sum + c.pieces.length, 0);
    const usage = { completion_tokens: completionTokens, prompt_tokens: req.promptTokens, total_tokens: req.promptTokens + completionTokens };
    ctx.usage = { promptTokens: req.promptTokens, completionTokens };
    const filters = choiceFilterResults(model);
    const logprobsOf = (c: Choice) => (req.logprobs === undefined ? null : legacyLogprobs(c.pieces, req.logprobs, c.rng));

    const pace = tokenPace(ctx);
    const steps = tokenSteps(choices.map((c) => c.pieces.length));
    if (!req.stream) {
      return answerAfterTokens(ctx, pace, steps, () =>
        jsonResponse(
          200,
          {
            choices: choices.map((c) => ({
              content_filter_results: filters,
              finish_reason: c.finishReason,
              index: c.index,
              logprobs: logprobsOf(c),
              text: (req.echo ? req.prompts[c.promptIndex].text : '') + c.pieces.join(''),
            })),
            created,
            id,
            model: model.version,
            object: 'text_completion',
            prompt_filter_results: promptFilterResults(req.prompts.length),
            usage,
          },
          ctx.headers,
        ),
      );
    }

    const tail = `,"created":${created},"id":"${id}","model":${JSON.stringify(model.version)},"object":"text_completion"${req.includeUsage ? ',"usage":null' : ''}}`;
    const filterJson = JSON.stringify(filters);
    const chunk = (index: number, text: string, finish = 'null', logprobs = 'null') =>
      `{"choices":[{"content_filter_results":${finish === 'null' ? filterJson : '{}'},"finish_reason":${finish},"index":${index},"logprobs":${logprobs},"text":${JSON.stringify(text)}}]${tail}`;
    function* events(): Generator<string> {
      yield TOKEN_STEP;
      yield JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilterResults(req.prompts.length) });
      if (req.echo) for (const c of choices) yield chunk(c.index, req.prompts[c.promptIndex].text);
      const longest = Math.max(0, ...choices.map((c) => c.pieces.length));
      for (let t = 0; t < longest; t++) {
        if (t > 0) yield TOKEN_STEP;
        for (const c of choices) {
          if (t >= c.pieces.length) continue;
          const lp = req.logprobs === undefined ? 'null' : JSON.stringify(legacyLogprobs([c.pieces[t]], req.logprobs, c.rng));
          yield chunk(c.index, c.pieces[t], 'null', lp);
        }
      }
      for (const c of choices) yield chunk(c.index, '', `"${c.finishReason}"`);
      if (req.includeUsage)
        yield `{"choices":[],"created":${created},"id":"${id}","model":${JSON.stringify(model.version)},"object":"text_completion","usage":${JSON.stringify(usage)}}`;
    }
    return streamAnswer(ctx, events(), pace, steps);
  },
};
