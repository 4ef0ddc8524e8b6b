// Small readers over an untrusted JSON body. Each returns the typed value or throws the
// OpenAI-shaped 400 that names the parameter.

import { invalidJson, invalidRequest, invalidType, invalidValue, missingParameter } from './errors';

export type Json = Record<string, unknown>;

export function parseJsonObject(text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidJson();
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidRequest(
      `Invalid type for request body: expected an object, but got ${Array.isArray(value) ? 'an array' : typeof value} instead.`,
      null,
      'invalid_type',
    );
  }
  return value as Json;
}

export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function required<T>(body: Json, key: string, read: (b: Json, k: string) => T | undefined): T {
  if (body[key] === undefined || body[key] === null) throw missingParameter(key);
  return read(body, key) as T;
}

export function optInt(body: Json, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(key, 'an integer', v);
  if (v < min) throw invalidValue(key, `Invalid '${key}': integer below minimum value. Expected a value >= ${min}, but got ${v} instead.`);
  if (v > max) throw invalidValue(key, `Invalid '${key}': integer above maximum value. Expected a value <= ${max}, but got ${v} instead.`);
  return v;
}

export function optNumber(body: Json, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidType(key, 'a number', v);
  if (v < min) throw invalidValue(key, `Invalid '${key}': decimal below minimum value. Expected a value >= ${min}, but got ${v} instead.`);
  if (v > max) throw invalidValue(key, `Invalid '${key}': decimal above maximum value. Expected a value <= ${max}, but got ${v} instead.`);
  return v;
}

export function optBool(body: Json, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidType(key, 'a boolean', v);
  return v;
}

export function optString(body: Json, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidType(key, 'a string', v);
  return v;
}

export function optEnum<T extends string>(body: Json, key: string, allowed: readonly T[]): T | undefined {
  const v = optString(body, key);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw invalidValue(key, `Invalid value: '${v}'. Supported values are: ${allowed.map((a) => `'${a}'`).join(', ')}.`);
  }
  return v as T;
}

export function optObject(body: Json, key: string): Json | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalidType(key, 'an object', v);
  return v;
}

/** `stop`: a string or an array of at most 4 strings. */
export function optStop(body: Json): string[] {
  const v = body.stop;
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v ? [v] : [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw invalidType('stop', 'a string or an array of strings', v);
  if (v.length > 4)
    throw invalidValue('stop', `Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length ${v.length} instead.`);
  return (v as string[]).filter((s) => s.length > 0);
}
