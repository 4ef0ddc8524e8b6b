// Generates a value that validates against a JSON Schema: what a model answers under
// `response_format: json_schema` or when it calls a tool. Covers the subset structured outputs
// allow (types, properties/required, items, enum/const, anyOf/oneOf/allOf, $ref to $defs,
// string/number/array bounds, common formats). `pattern` is not solved; such strings are plain words.

import type { Rng } from '../random';
import { generatePhrase } from './text';
import { isObject, type Json } from '../validate';

const MAX_DEPTH = 8;
/** Past this depth (a schema that refers to itself with no way out), values are null. */
const HARD_DEPTH = 48;

/**
 * What one generated value may cost, however the schema asks (minLength 1e9, minItems nested
 * 100x100x100, minProperties 1e6): values past it are cut short. The answer is cut to the
 * request's token budget afterwards anyway; this bounds the work and memory before that.
 */
export interface GenerationBudget {
  nodes: number;
  chars: number;
}
const DEFAULT_BUDGET: GenerationBudget = { nodes: 20_000, chars: 400_000 };

export function generateFromSchema(schema: unknown, rng: Rng, budget: GenerationBudget = { ...DEFAULT_BUDGET }): unknown {
  const root = isObject(schema) ? schema : {};
  return generate(root, root, rng, 0, '', budget);
}

function resolveRef(ref: string, root: Json): Json {
  if (!ref.startsWith('#')) return {};
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    node = isObject(node) ? node[decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~'))] : undefined;
  }
  return isObject(node) ? node : {};
}

function generate(schema: Json, root: Json, rng: Rng, depth: number, key: string, budget: GenerationBudget): unknown {
  if (depth > HARD_DEPTH || --budget.nodes < 0) return null;
  if (typeof schema.$ref === 'string') return generate(resolveRef(schema.$ref, root), root, rng, depth + 1, key, budget);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[rng.int(schema.enum.length)];
  if (Array.isArray(schema.allOf)) {
    const merged: Json = { ...schema, allOf: undefined };
    for (const part of schema.allOf) if (isObject(part)) mergeInto(merged, part, root);
    return generate(merged, root, rng, depth + 1, key, budget);
  }
  const options = (Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined)?.filter(isObject);
  if (options?.length) {
    // Deep in a recursive schema, prefer a branch that ends the recursion.
    const terminal = options.find((o) => o.type === 'null' || (o.type !== 'object' && o.type !== 'array' && !o.$ref));
    const pick = depth >= MAX_DEPTH && terminal ? terminal : options[rng.int(options.length)];
    return generate({ ...schema, anyOf: undefined, oneOf: undefined, ...pick }, root, rng, depth + 1, key, budget);
  }
  const type = pickType(schema, rng, depth);
  switch (type) {
    case 'object':
      return generateObject(schema, root, rng, depth, budget);
    case 'array':
      return generateArray(schema, root, rng, depth, key, budget);
    case 'string':
      return generateString(schema, rng, key, budget);
    case 'integer':
      return generateNumber(schema, rng, true);
    case 'number':
      return generateNumber(schema, rng, false);
    case 'boolean':
      return rng.next() < 0.5;
    default:
      return null;
  }
}

function mergeInto(target: Json, part: Json, root: Json): void {
  const source = typeof part.$ref === 'string' ? resolveRef(part.$ref, root) : part;
  for (const [k, v] of Object.entries(source)) {
    if (k === 'properties' && isObject(v)) target.properties = { ...(isObject(target.properties) ? target.properties : {}), ...v };
    else if (k === 'required' && Array.isArray(v)) target.required = [...(Array.isArray(target.required) ? target.required : []), ...v];
    else if (target[k] === undefined) target[k] = v;
  }
}

function pickType(schema: Json, rng: Rng, depth: number): string {
  const t = schema.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t) && t.length) {
    const types = t.filter((x): x is string => typeof x === 'string');
    if (depth >= MAX_DEPTH && types.includes('null')) return 'null';
    const nonNull = types.filter((x) => x !== 'null');
    return (nonNull.length ? nonNull : types)[rng.int(nonNull.length || types.length)];
  }
  if (isObject(schema.properties)) return 'object';
  if (schema.items !== undefined) return 'array';
  return 'string';
}

function generateObject(schema: Json, root: Json, rng: Rng, depth: number, budget: GenerationBudget): Json {
  const out: Json = {};
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  for (const [name, sub] of Object.entries(properties)) {
    // Optional properties are included too (structured outputs make every property required),
    // except deep in recursive schemas where leaving them out ends the recursion.
    if (depth >= MAX_DEPTH && !required.has(name)) continue;
    if (budget.nodes <= 0) break;
    out[name] = generate(isObject(sub) ? sub : {}, root, rng, depth + 1, name, budget);
  }
  for (const name of required) if (!(name in out) && budget.nodes-- > 0) out[name] = generatePhrase(2, rng);
  const min = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
  for (let i = Object.keys(out).length; i < min && budget.nodes-- > 0; i++) out[`property_${i}`] = generatePhrase(1, rng);
  return out;
}

function generateArray(schema: Json, root: Json, rng: Rng, depth: number, key: string, budget: GenerationBudget): unknown[] {
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : Math.max(min, 3);
  const count = depth >= MAX_DEPTH ? min : min + rng.int(Math.max(1, Math.min(max, min + 3) - min + 1));
  const items = isObject(schema.items) ? schema.items : {};
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems.filter(isObject) : [];
  const out: unknown[] = [];
  for (let i = 0; i < Math.max(count, prefix.length) && budget.nodes > 0; i++) {
    out.push(generate(prefix[i] ?? items, root, rng, depth + 1, key, budget));
  }
  if (schema.uniqueItems === true) {
    const seen = new Set<string>();
    return out.filter((v) => {
      const k = JSON.stringify(v);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  return out;
}

function generateString(schema: Json, rng: Rng, key: string, budget: GenerationBudget): string {
  const minLength = typeof schema.minLength === 'number' ? Math.min(schema.minLength, Math.max(0, budget.chars)) : 0;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  let value: string;
  switch (schema.format) {
    case 'date-time':
      value = new Date(Date.UTC(2025, rng.int(12), 1 + rng.int(28), rng.int(24), rng.int(60))).toISOString().replace('.000', '');
      break;
    case 'date':
      value = new Date(Date.UTC(2025, rng.int(12), 1 + rng.int(28))).toISOString().slice(0, 10);
      break;
    case 'time':
      value = `${pad(rng.int(24))}:${pad(rng.int(60))}:${pad(rng.int(60))}`;
      break;
    case 'email':
      value = `${generatePhrase(1, rng)}@example.com`;
      break;
    case 'uri':
    case 'url':
      value = `https://example.com/${generatePhrase(1, rng)}`;
      break;
    case 'uuid':
      value = uuidFrom(rng);
      break;
    case 'ipv4':
      value = `192.0.2.${1 + rng.int(254)}`;
      break;
    default:
      value = key ? generatePhrase(1 + rng.int(4), rng) : generatePhrase(3, rng);
  }
  if (value.length < minLength) {
    // Whole words up to the length, without building it a word at a time past a few thousand.
    let words = value;
    while (words.length < Math.min(minLength, 4096)) words += ' ' + generatePhrase(1, rng);
    value = words.length >= minLength ? words : words.repeat(Math.ceil(minLength / (words.length + 1)) + 1);
  }
  if (value.length > minLength && value.length > maxLength) value = value.slice(0, Math.max(maxLength, minLength));
  budget.chars -= value.length;
  return value.length > maxLength ? value.slice(0, maxLength).padEnd(minLength, 'a') : value;
}

function generateNumber(schema: Json, rng: Rng, integer: boolean): number {
  let min =
    typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + (integer ? 1 : 1e-6) : 0;
  let max =
    typeof schema.maximum === 'number'
      ? schema.maximum
      : typeof schema.exclusiveMaximum === 'number'
        ? schema.exclusiveMaximum - (integer ? 1 : 1e-6)
        : min + 100;
  if (max < min) max = min;
  if (integer) {
    min = Math.ceil(min);
    max = Math.floor(max);
    const step = typeof schema.multipleOf === 'number' && Number.isInteger(schema.multipleOf) && schema.multipleOf > 0 ? schema.multipleOf : 1;
    const first = Math.ceil(min / step) * step;
    const steps = Math.max(0, Math.floor((max - first) / step));
    return first + step * rng.int(steps + 1);
  }
  if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0) {
    const step = schema.multipleOf;
    const first = Math.ceil(min / step);
    return Number(((first + rng.int(Math.max(1, Math.floor(max / step) - first + 1))) * step).toPrecision(12));
  }
  return Math.round((min + rng.next() * (max - min)) * 100) / 100;
}

const pad = (n: number) => String(n).padStart(2, '0');

function uuidFrom(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}
