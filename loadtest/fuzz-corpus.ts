// A seeded corpus of malformed and hostile requests for every route: valid bodies with fields
// removed, retyped or blown up, hostile JSON Schemas, names, encodings and sizes. The fuzz test
// asserts no 5xx, no crash and no hang on it; `npm run stall` measures the event loop on it.

import { OPERATION_ROUTES, RESOURCE_ROUTES } from '../src/routes';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same corpus. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] };
}

const HOSTILE_SCHEMAS: unknown[] = [
  { $ref: '#' },
  { $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' },
  { allOf: [{ $ref: '#' }] },
  { type: 'object', properties: { s: { type: 'string', minLength: 1e9 } }, required: ['s'] },
  { type: 'array', minItems: 1e9, items: { type: 'string' } },
  { type: 'object', minProperties: 1e6 },
  { type: 'array', minItems: 100, items: { type: 'array', minItems: 100, items: { type: 'array', minItems: 100 } } },
  { type: 'string', pattern: '(a+)+$', enum: [] },
  { anyOf: [] },
  'not a schema',
];

const NAMES = [
  'gpt-4o',
  'o4-mini',
  'text-embedding-3-small',
  'whisper',
  'dall-e-3',
  'x%00y',
  '%E2%80%AE',
  '%F0%9F%98%80',
  'a'.repeat(300),
  '..',
  '%2E%2E',
  'x%2F..%2Fy',
  '',
];
const VERSIONS = ['2024-10-21', '2025-04-01-preview', '2023-01-01', 'v1', 'latest', '', 'garbage', '9999-99-99', '%00'];

/** Values of every kind, including the ones a parser chokes on. */
function anyValue(r: ReturnType<typeof rng>, depth = 0): unknown {
  switch (r.int(depth > 2 ? 8 : 11)) {
    case 0:
      return null;
    case 1:
      return r.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER]);
    case 2:
      return r.pick(['', 'x', 'json', '<|endoftext|>', '\u0000\uffff\ud800', 'A'.repeat(20_000)]);
    case 3:
      return r.next() < 0.5;
    case 4:
      return r.pick([1e9, 128, 129, 4096, 100_000]);
    case 5:
      return [];
    case 6:
      return {};
    case 7:
      return r.pick(HOSTILE_SCHEMAS);
    case 8:
      return Array.from({ length: r.int(4) }, () => anyValue(r, depth + 1));
    case 9:
      return Object.fromEntries(Array.from({ length: r.int(4) }, (_, i) => [`k${i}`, anyValue(r, depth + 1)]));
    default:
      return { type: r.pick(['function', 'text', 'json_schema', 'input_text', 'message', 'web_search']), ...(anyValue(r, depth + 1) as object) };
  }
}

/** A valid body for each kind of operation, to mutate. */
function baseBody(path: string, model: string): Record<string, unknown> {
  const tool = { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { q: { type: 'string' } } } } };
  if (path.includes('responses')) return { model, input: 'hi', max_output_tokens: 32, tools: [{ type: 'function', name: 'f', parameters: {} }] };
  if (path.includes('chat/completions'))
    return { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, tools: [tool], response_format: { type: 'text' }, n: 1 };
  if (path.includes('embeddings')) return { model, input: 'hello', encoding_format: 'base64' };
  if (path.includes('images')) return { model, prompt: 'a boat', size: '256x256', n: 1 };
  return { model, prompt: 'hi', max_tokens: 8 };
}

const FIELDS = [
  'messages',
  'input',
  'max_tokens',
  'max_output_tokens',
  'n',
  'tools',
  'tool_choice',
  'response_format',
  'text',
  'stream',
  'stream_options',
  'logprobs',
  'top_logprobs',
  'temperature',
  'top_p',
  'stop',
  'seed',
  'model',
  'dimensions',
  'encoding_format',
  'prompt',
  'size',
  'previous_response_id',
  'background',
  'store',
  'reasoning',
  'instructions',
  'metadata',
];

function mutate(r: ReturnType<typeof rng>, body: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = { ...body };
  for (let i = 1 + r.int(3); i > 0; i--) {
    const field = r.pick(FIELDS);
    if (r.next() < 0.2) delete out[field];
    else out[field] = anyValue(r);
  }
  if (r.next() < 0.15) out.response_format = { type: 'json_schema', json_schema: { name: 'x', schema: r.pick(HOSTILE_SCHEMAS) } };
  if (r.next() < 0.1) return anyValue(r);
  return out;
}

const fill = (path: string, r: ReturnType<typeof rng>) =>
  path
    .replace(':deployment', r.pick(NAMES))
    .replace(':id', r.pick(['resp_unknown', '', '..', '%00', 'x'.repeat(300)]))
    .replace(':size', r.pick(['64x64', '0x0', '99999x9', 'x']))
    .replace(':file', r.pick(['a.png', '..', '%00.png']));

/** `count` requests from `seed`, over every operation and resource route. */
export function fuzzCorpus(count: number, seed = 1): FuzzRequest[] {
  const r = rng(seed);
  const routes = [...OPERATION_ROUTES, ...RESOURCE_ROUTES];
  const corpus: FuzzRequest[] = [];
  for (let i = 0; i < count; i++) {
    const route = r.pick(routes);
    const method = r.next() < 0.9 ? route.methods[0] : r.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'POST']);
    const version = r.pick(VERSIONS);
    const path = `${fill(route.path, r)}${version ? `?api-version=${version}` : ''}`;
    const headers: Record<string, string> = { 'api-key': 'fuzz-key' };
    let body: string | Uint8Array | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      const kind = r.int(10);
      if (kind === 0) body = '{"messages": [';
      else if (kind === 1) body = new Uint8Array([0xff, 0xfe, 0x00, 0x7b]);
      else if (kind === 2) body = '';
      else body = JSON.stringify(mutate(r, baseBody(route.path, r.pick(NAMES.slice(0, 5)))));
      headers['content-type'] =
        r.next() < 0.9 ? 'application/json' : r.pick(['text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16']);
    }
    if (r.next() < 0.05) headers.authorization = r.pick(['Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.', 'Bearer ', 'Basic xx']);
    corpus.push({ method, path, headers, body });
  }
  return corpus;
}
