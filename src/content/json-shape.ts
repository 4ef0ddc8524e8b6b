// The shape a json_object answer should take, from what the prompt shows: clients such as
// LangChain's jsonMode put a JSON Schema or a JSON example in the messages and parse the answer
// against it. Found in one linear pass over the message texts; the last object found wins.

import { isObject, type Json } from '../validate';

/** Past this, text is not searched (a bound on work per request). */
const MAX_SCAN_CHARS = 200_000;

/** The JSON Schema to answer with: a schema found in the messages, or one describing an example found there. */
export function jsonShapeIn(messages: readonly Json[]): Json | undefined {
  let found: Json | undefined;
  let budget = MAX_SCAN_CHARS;
  for (const message of messages) {
    for (const text of textsOf(message)) {
      if (budget <= 0) return found;
      const scanned = text.slice(0, budget);
      budget -= scanned.length;
      for (const candidate of topLevelObjects(scanned)) found = candidate;
    }
  }
  if (!found) return undefined;
  return looksLikeSchema(found) ? found : schemaOf(found, 0);
}

function textsOf(message: Json): string[] {
  const content = message.content;
  if (typeof content === 'string') return [content];
  if (Array.isArray(content)) return content.filter(isObject).map((p) => (typeof p.text === 'string' ? p.text : ''));
  return [];
}

/** Each balanced top-level `{...}` that parses as a JSON object (strings and escapes respected). */
function* topLevelObjects(text: string): Generator<Json> {
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      if (depth > 0) inString = true;
    } else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      try {
        const value: unknown = JSON.parse(text.slice(start, i + 1));
        if (isObject(value)) yield value;
      } catch {
        // prose with braces, not JSON
      }
    }
  }
}

const looksLikeSchema = (value: Json) => typeof value.$schema === 'string' || (value.type === 'object' && isObject(value.properties));

/** A schema an example satisfies: same keys, values of the same types (arrays of the first element's). */
function schemaOf(example: unknown, depth: number): Json {
  if (depth > 8) return {};
  if (typeof example === 'string') return { type: 'string' };
  if (typeof example === 'number') return { type: Number.isInteger(example) ? 'integer' : 'number' };
  if (typeof example === 'boolean') return { type: 'boolean' };
  if (Array.isArray(example)) return { type: 'array', items: example.length ? schemaOf(example[0], depth + 1) : {}, minItems: 1, maxItems: 3 };
  if (isObject(example)) {
    const keys = Object.keys(example);
    return {
      type: 'object',
      properties: Object.fromEntries(keys.map((k) => [k, schemaOf(example[k], depth + 1)])),
      required: keys,
      additionalProperties: false,
    };
  }
  return { type: 'null' };
}
