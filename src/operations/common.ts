// What chat and legacy completions share: Azure's filter annotations, usage, fingerprints, the
// generated text of one choice (length, stop sequences) and its logprobs; the strict-schema limits.

import type { Encoding, ModelInfo } from '../catalogue';
import { invalidRequest, invalidSchema, invalidValue } from '../errors';
import { schemaLimitProblem } from '../content/schema-limits';
import { md5Hex, type Rng } from '../random';
import { drawLength, generatePieces, VOCABULARY } from '../content/text';
import { tokenPieces } from '../content/tokens';

const SAFE = { filtered: false, severity: 'safe' } as const;
const NOT_DETECTED = { filtered: false, detected: false } as const;

/** Choice-level annotations; newer (o200k) model profiles add the protected-material checks. */
export function choiceFilterResults(model: ModelInfo): Record<string, unknown> {
  return model.encoding === 'o200k_base'
    ? { hate: SAFE, protected_material_code: NOT_DETECTED, protected_material_text: NOT_DETECTED, self_harm: SAFE, sexual: SAFE, violence: SAFE }
    : { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
}

export function promptFilterResults(promptCount = 1): unknown[] {
  const results = { hate: SAFE, jailbreak: NOT_DETECTED, self_harm: SAFE, sexual: SAFE, violence: SAFE };
  return Array.from({ length: promptCount }, (_, i) => ({ prompt_index: i, content_filter_results: results }));
}

const fingerprints = new Map<string, string>();
export function systemFingerprint(model: ModelInfo): string {
  let fp = fingerprints.get(model.version);
  if (!fp) fingerprints.set(model.version, (fp = 'fp_' + md5Hex(model.version).slice(0, 10)));
  return fp;
}

export interface Usage {
  completion_tokens: number;
  completion_tokens_details: { accepted_prediction_tokens: number; audio_tokens: number; reasoning_tokens: number; rejected_prediction_tokens: number };
  prompt_tokens: number;
  prompt_tokens_details: { audio_tokens: number; cached_tokens: number };
  total_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return {
    completion_tokens: completionTokens,
    completion_tokens_details: { accepted_prediction_tokens: 0, audio_tokens: 0, reasoning_tokens: 0, rejected_prediction_tokens: 0 },
    prompt_tokens: promptTokens,
    prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
    total_tokens: promptTokens + completionTokens,
  };
}

/** AOAI's 400s for a completion budget the model cannot give. */
/**
 * How far prompts are counted exactly: twice the context window, so the context-length error names
 * the exact count of any prompt near the window; one far past it is estimated past this point.
 */
export const countingLimit = (model: ModelInfo) => 2 * model.contextWindow;

export function checkCompletionBudget(model: ModelInfo, promptTokens: number, maxTokens: number | undefined, param: string, promptParam: string): void {
  if (maxTokens !== undefined && maxTokens > model.maxOutputTokens) {
    throw invalidValue(
      param,
      `${param} is too large: ${maxTokens}. This model supports at most ${model.maxOutputTokens} completion tokens, whereas you provided ${maxTokens}.`,
    );
  }
  const requested = promptTokens + (maxTokens ?? 0);
  if (requested > model.contextWindow || promptTokens >= model.contextWindow) {
    throw invalidRequest(
      `This model's maximum context length is ${model.contextWindow} tokens. However, you requested ${requested} tokens ` +
        `(${promptTokens} in the messages, ${maxTokens ?? 0} in the completion). Please reduce the length of the messages or completion.`,
      promptParam,
      'context_length_exceeded',
    );
  }
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface GeneratedText {
  /** One token each; joined they are the content. */
  pieces: string[];
  finishReason: FinishReason;
}

export interface LengthSettings {
  maxTokens?: number;
  /** Room left for output: min(max output, context window - prompt). */
  available: number;
  mean: number;
  stdDev: number;
}

/**
 * The text of one choice: exactly `maxTokens` tokens ("length") when a cap is given, else a drawn
 * length ending a sentence ("stop"). A stop sequence cuts the text before it ("stop").
 */
export function generateText(length: LengthSettings, stop: readonly string[], rng: Rng, encoding: Encoding): GeneratedText {
  const capped = length.maxTokens !== undefined;
  const count = capped ? length.maxTokens! : drawLength(rng, length.mean, length.stdDev, length.available);
  const pieces = generatePieces(count, rng, !capped);
  const result: GeneratedText = { pieces, finishReason: capped ? 'length' : 'stop' };
  return stop.length ? applyStop(result, stop, encoding) : result;
}

function applyStop(text: GeneratedText, stop: readonly string[], encoding: Encoding): GeneratedText {
  const content = text.pieces.join('');
  let cut = -1;
  for (const s of stop) {
    const at = content.indexOf(s);
    if (at !== -1 && (cut === -1 || at < cut)) cut = at;
  }
  if (cut === -1) return text;
  return { pieces: splitTokens(content.slice(0, cut), encoding), finishReason: 'stop' };
}

/** Text split into its tokens' strings (for streaming arbitrary content one token per chunk). */
export function splitTokens(text: string, encoding: Encoding): string[] {
  return text ? tokenPieces(text, encoding) : [];
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

const bytesOf = (s: string) => [...Buffer.from(s, 'utf8')];
const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Plausible logprobs: the chosen token most likely, alternatives drawn from the vocabulary. */
export function tokenLogprobs(piece: string, topCount: number, rng: Rng): TokenLogprob {
  const logprob = round(-rng.next() * 0.6);
  const top = [{ token: piece, logprob, bytes: bytesOf(piece) }];
  let next = logprob;
  for (let i = 1; i < topCount; i++) {
    next = round(next - 0.5 - rng.next() * 2);
    const word = ' ' + VOCABULARY.lower[rng.int(VOCABULARY.lower.length)];
    top.push({ token: word, logprob: next, bytes: bytesOf(word) });
  }
  return { token: piece, logprob, bytes: bytesOf(piece), top_logprobs: top.slice(0, topCount) };
}

/** A strict schema is held to OpenAI's size limits (a non-strict one is only a hint to the model). */
export function checkStrictSchema(kind: 'response_format' | 'function', name: string, schema: unknown, param: string): void {
  const problem = schemaLimitProblem(schema);
  if (problem) throw invalidSchema(kind, name, problem, param);
}
