// Token counting and splitting over js-tiktoken's bundled ranks (never downloaded), by the heap
// merge in bpe.ts: ranks built on first use (~0.2 s each); the standalone server warms both.

import type { Encoding } from '../catalogue';
import { bpeRanks, countBpeTokens, splitBpe, type BpeRanks } from './bpe';
import { precounted } from './long-counts';
import { isObject } from '../validate';

// js-tiktoken is ESM only: its types are named through an ESM-resolved import type.
type Lite = typeof import('js-tiktoken/lite', { with: { 'resolution-mode': 'import' }});
type Tiktoken = InstanceType<Lite['Tiktoken']>;
type TiktokenBPE = ConstructorParameters<Lite['Tiktoken']>[0];

// js-tiktoken declares ESM types only; its CommonJS build is what `require` loads.
/* eslint-disable @typescript-eslint/no-require-imports */
const { Tiktoken: TiktokenClass } = require('js-tiktoken/lite') as { Tiktoken: new (ranks: TiktokenBPE) => Tiktoken };
const RANKS: Record<Encoding, TiktokenBPE> = {
  cl100k_base: require('js-tiktoken/ranks/cl100k_base'),
  o200k_base: require('js-tiktoken/ranks/o200k_base'),
};
const encoders = new Map<Encoding, Tiktoken>();
/** What counting and splitting need (built on first use). */
const ranks: Partial<Record<Encoding, BpeRanks>> = {};

/** js-tiktoken's own encoder: not on the request path; the reference the tests hold counts against. */
export function encoder(encoding: Encoding): Tiktoken {
  let enc = encoders.get(encoding);
  if (!enc) {
    enc = new TiktokenClass(RANKS[encoding]);
    encoders.set(encoding, enc);
  }
  return enc;
}

export function warmEncoders(): void {
  for (const encoding of ['cl100k_base', 'o200k_base'] as const) countTokens('warm up', encoding);
}

// Chat clients resend the whole conversation each turn, so the same strings are counted again
// and again. Counts of strings up to 64 KiB are remembered (bounded; cleared when full).
const CACHE_LIMIT = 20000;
const CACHEABLE_LENGTH = 65536;
const counted: Record<Encoding, Map<string, number>> = { cl100k_base: new Map(), o200k_base: new Map() };

const ranksOf = (encoding: Encoding) => (ranks[encoding] ??= bpeRanks(RANKS[encoding]));

/** Text as its tokens' strings (a character split across tokens stays whole in one piece). */
export const tokenPieces = (text: string, encoding: Encoding): string[] => splitBpe(text, ranksOf(encoding));

/** Tokens in `text`: exact up to `limit`, an estimate above it past that (see countBpeTokens). */
export function countTokens(text: string, encoding: Encoding, limit = Infinity): number {
  if (text.length === 0) return 0;
  const cache = counted[encoding];
  let n = text.length > CACHEABLE_LENGTH ? precounted[encoding].get(text) : cache.get(text);
  if (n === undefined) {
    n = countBpeTokens(text, ranksOf(encoding), limit);
    if (text.length <= CACHEABLE_LENGTH && n <= limit) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(text, n);
    }
  }
  return n;
}

// OpenAI's per-message accounting (the cookbook's num_tokens_from_messages): 3 tokens of framing
// per message, every string value encoded, 1 more for `name`, 3 to prime the reply.
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING = 3;
// An image part: 85 base tokens at low detail; high/auto detail counted as a 1024x1024 image (4 tiles).
const IMAGE_TOKENS_LOW = 85;
const IMAGE_TOKENS_HIGH = 85 + 170 * 4;

/** A conversation's prompt tokens: exact up to `limit`, an estimate above it past that. */
export function countChatPromptTokens(messages: readonly unknown[], tools: readonly unknown[] | undefined, encoding: Encoding, limit = Infinity): number {
  let total = REPLY_PRIMING;
  const count = (s: string) => countTokens(s, encoding, Math.max(0, limit - total));
  for (const message of messages) {
    if (!isObject(message)) continue;
    total += TOKENS_PER_MESSAGE;
    for (const [key, value] of Object.entries(message)) {
      if (typeof value === 'string') {
        total += count(value);
        if (key === 'name') total += TOKENS_PER_NAME;
      } else if (key === 'content' && Array.isArray(value)) {
        total += countContentParts(value, count);
      } else if (key === 'tool_calls' && Array.isArray(value)) {
        for (const call of value) {
          const fn = isObject(call) && isObject(call.function) ? call.function : {};
          total += 3 + count(String(fn.name ?? '')) + count(String(fn.arguments ?? ''));
        }
      }
    }
  }
  if (tools?.length) total += countToolTokens(tools, encoding);
  return total;
}

function countContentParts(parts: readonly unknown[], count: (s: string) => number): number {
  let total = 0;
  for (const part of parts) {
    if (!isObject(part)) continue;
    if (typeof part.text === 'string') total += count(part.text);
    else if (part.type === 'image_url') {
      const detail = isObject(part.image_url) ? part.image_url.detail : undefined;
      total += detail === 'low' ? IMAGE_TOKENS_LOW : IMAGE_TOKENS_HIGH;
    }
  }
  return total;
}

// The cookbook's num_tokens_for_tools: how function definitions are rendered into the prompt.
function countToolTokens(tools: readonly unknown[], encoding: Encoding): number {
  const count = (s: string) => countTokens(s, encoding);
  const funcInit = encoding === 'o200k_base' ? 7 : 10;
  const PROP_INIT = 3,
    PROP_KEY = 3,
    ENUM_INIT = -3,
    ENUM_ITEM = 3,
    FUNC_END = 12;
  let total = 0;
  for (const tool of tools) {
    const fn = isObject(tool) && isObject(tool.function) ? tool.function : undefined;
    if (!fn) continue;
    total += funcInit + count(`${fn.name ?? ''}:${String(fn.description ?? '').replace(/\.$/, '')}`);
    const properties = isObject(fn.parameters) && isObject(fn.parameters.properties) ? fn.parameters.properties : {};
    const keys = Object.keys(properties);
    if (keys.length) {
      total += PROP_INIT;
      for (const key of keys) {
        const p = isObject(properties[key]) ? (properties[key] as Record<string, unknown>) : {};
        total += PROP_KEY;
        if (Array.isArray(p.enum)) {
          total += ENUM_INIT;
          for (const item of p.enum) total += ENUM_ITEM + count(String(item));
        }
        total += count(`${key}:${String(p.type ?? '')}:${String(p.description ?? '').replace(/\.$/, '')}`);
      }
    }
  }
  return total + FUNC_END;
}
