// POST /openai/deployments/{deployment}/embeddings

import { invalidRequest, invalidType, invalidValue, missingParameter } from '../errors';
import { decodeUtf8, jsonResponse } from '../http';
import { sample } from '../pacing/latency';
import { requestBody, type Operation, type RequestContext } from './operation';
import { seededRng } from '../random';
import { countTokens } from '../content/tokens';
import { longStrings, withLongCounts } from '../content/long-counts';
import { optEnum, optInt, parseJsonObject } from '../validate';

const MAX_INPUTS = 2048;

export interface EmbeddingRequest {
  /** Each input as a seed key (text, or token ids joined), its token count and length in characters. */
  inputs: { key: string; tokens: number; chars: number }[];
  encodingFormat: 'float' | 'base64';
  dimensions: number;
  promptTokens: number;
}

export async function parseEmbedding(ctx: RequestContext): Promise<EmbeddingRequest> {
  const body = parseJsonObject(decodeUtf8(await requestBody(ctx, ctx.config.maxRequestBodyBytes)));
  const { model } = ctx.deployment;
  const limit = model.maxInputTokens ?? 8191;
  // Counted exactly to twice the input limit; an input far past it is estimated past that point.
  const inputs = await withLongCounts(longStrings(body.input), model.encoding, 2 * limit, () => readInputs(body.input, model.encoding, 2 * limit));
  const longest = inputs.reduce((max, i) => Math.max(max, i.tokens), 0);
  if (longest > limit) {
    throw invalidRequest(
      `This model's maximum context length is ${limit + 1} tokens, however you requested ${longest} tokens (${longest} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
      'input',
      'context_length_exceeded',
    );
  }
  const nativeSize = nativeEmbeddingSize(ctx);
  const dimensions = optInt(body, 'dimensions', 1);
  if (dimensions !== undefined && !model.supportsDimensions) {
    throw invalidRequest('This model does not support specifying dimensions.', 'dimensions', 'unsupported_parameter');
  }
  if (dimensions !== undefined && dimensions > nativeSize) {
    throw invalidValue('dimensions', `Invalid 'dimensions': ${dimensions}. This model supports at most ${nativeSize} dimensions.`);
  }
  return {
    inputs,
    encodingFormat: optEnum(body, 'encoding_format', ['float', 'base64'] as const) ?? 'float',
    dimensions: dimensions ?? nativeSize,
    promptTokens: inputs.reduce((sum, i) => sum + i.tokens, 0),
  };
}

/** The deployment's `embeddingSize` (Python simulator config) overrides the model's default. */
const nativeEmbeddingSize = (ctx: RequestContext) => ctx.deployment.embeddingSize ?? ctx.deployment.model.embeddingSize ?? 1536;

function readInputs(input: unknown, encoding: 'cl100k_base' | 'o200k_base', limit: number): EmbeddingRequest['inputs'] {
  if (input === undefined || input === null) throw missingParameter('input');
  const isTokens = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((t) => Number.isInteger(t) && t >= 0);
  const text = (s: string) => {
    if (s.length === 0) throw invalidValue('input', "Invalid 'input': empty string. Expected a non-empty string.");
    return { key: 's:' + s, tokens: countTokens(s, encoding, limit), chars: s.length };
  };
  const tokens = (t: number[]) => ({ key: 't:' + t.join(','), tokens: t.length, chars: t.length * 4 });
  let items: EmbeddingRequest['inputs'];
  if (typeof input === 'string') items = [text(input)];
  else if (isTokens(input)) items = [tokens(input)];
  else if (Array.isArray(input) && input.length && input.every((v) => typeof v === 'string')) items = (input as string[]).map(text);
  else if (Array.isArray(input) && input.length && input.every(isTokens)) items = (input as number[][]).map(tokens);
  else throw invalidType('input', 'a string, an array of strings, an array of tokens or an array of token arrays', input);
  if (items.length > MAX_INPUTS) {
    throw invalidValue(
      'input',
      `Invalid 'input': array too long. Expected an array with maximum length ${MAX_INPUTS}, but got an array with length ${items.length} instead.`,
    );
  }
  return items;
}

/**
 * A unit vector that depends only on (model, input): bit-identical across calls and instances.
 * Reduced dimensions truncate the native vector and re-normalise, as text-embedding-3 does.
 */
export function embeddingVector(modelVersion: string, key: string, nativeSize: number, dimensions: number): Float32Array {
  const rng = seededRng(modelVersion + '\u0000' + key);
  const full = new Float64Array(nativeSize);
  for (let i = 0; i < nativeSize; i++) full[i] = rng.next() * 2 - 1;
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += full[i] * full[i];
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) out[i] = full[i] / norm;
  return out;
}

/** base64 of float32 little-endian (Float32Array is little-endian on every host Node runs on here). */
const toBase64 = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');

export const embeddings: Operation<EmbeddingRequest> = {
  kind: 'embeddings',
  aoaiName: 'embeddings',
  operationId: 'Embeddings_Create',
  parse: parseEmbedding,
  cost(req, ctx) {
    // The Python simulator's calibration counts characters / 4 per input.
    return ctx.config.rateLimits.costModel === 'python' ? req.inputs.reduce((sum, i) => sum + Math.ceil(i.chars / 4), 0) : req.promptTokens;
  },
  latencyMs: (_req, profile) => sample(profile.perRequestMs),
  generate(req, ctx) {
    const model = ctx.deployment.model;
    const nativeSize = nativeEmbeddingSize(ctx);
    ctx.usage = { promptTokens: req.promptTokens, completionTokens: 0 };
    return jsonResponse(
      200,
      {
        data: req.inputs.map((input, index) => {
          const vector = embeddingVector(model.version, input.key, nativeSize, req.dimensions);
          return { embedding: req.encodingFormat === 'base64' ? toBase64(vector) : Array.from(vector), index, object: 'embedding' };
        }),
        model: model.version,
        object: 'list',
        usage: { prompt_tokens: req.promptTokens, total_tokens: req.promptTokens },
      },
      ctx.headers,
    );
  },
};
