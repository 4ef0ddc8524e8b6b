// Bad input that must get AOAI's answer, never a 500, and must not reach where it should not:
// deployment names AOAI could not have, record mode's path traversal, long names at save, and
// clients that send headers and never their body.
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingFileName } from '../src/modes/recordings/format';
import { KEY, post, startSimulator, type TestSimulator } from './helpers';
import { startUpstream, type FakeUpstream } from './upstream';

const V = 'api-version=2024-10-21';
const chat = { messages: [{ role: 'user', content: 'hi' }] };
const HOSTILE_NAMES = ['x%00y', 'x%E2%80%AEy', '%F0%9F%98%80', 'a%0D%0Ab', 'x%2F..%2F..%2F..%2Ftmp%2Fpwn', 'a'.repeat(240), '..', '%2E%2E'];

describe('deployment names AOAI could not have: 404 DeploymentNotFound, never a 500', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  for (const name of HOSTILE_NAMES) {
    it(`classic route: ${name.slice(0, 40)}`, async () => {
      const response = await post(sim.url, `/openai/deployments/${name}/chat/completions?${V}`, chat);
      expect(response.status).toBe(404);
      expect(response.headers.get('x-ms-deployment-name')).toBeNull();
      const body = await response.json();
      expect(['DeploymentNotFound', '404']).toContain(body.error.code);
    });
  }

  it('v1 route: a model with control characters or 65 characters', async () => {
    for (const model of ['x\u0000y', 'a'.repeat(65), 'gpt-4o\r\nx-evil: 1']) {
      const response = await post(sim.url, '/openai/v1/chat/completions', { ...chat, model });
      expect(response.status).toBe(404);
      expect((await response.json()).error.code).toBe('DeploymentNotFound');
    }
  });
});

describe('record mode forwards only below the upstream /openai/', () => {
  let upstream: FakeUpstream;
  let sim: TestSimulator;
  const dir = mkdtempSync(join(tmpdir(), 'aoai-hostile-'));
  beforeAll(async () => {
    upstream = await startUpstream();
    sim = await startSimulator({ SIMULATOR_MODE: 'record', RECORDING_DIR: dir, AZURE_OPENAI_ENDPOINT: upstream.url, AZURE_OPENAI_KEY: 'upstream-key' });
  });
  afterAll(() => Promise.all([sim.close(), upstream.close()]));

  it('encoded slashes, dot segments and control characters are refused, and nothing reaches the upstream', async () => {
    const paths = [
      `/openai/deployments/x%2F..%2F..%2F..%2Ftmp%2Fpwn/chat/completions?${V}`,
      `/openai/deployments/x/..%2F..%2F..%2Ftmp/chat/completions?${V}`,
      `/openai/%2E%2E/%2E%2E/tmp/pwn?${V}`,
      `/openai/deployments/a%5Cb/chat/completions?${V}`,
      `/openai/deployments/${'a'.repeat(240)}/chat/completions?${V}`,
    ];
    for (const path of paths) {
      const response = await post(sim.url, path, chat);
      expect(response.status).toBe(404);
    }
    expect(upstream.received).toHaveLength(0);
    // A well-formed request still goes through, to the upstream's /openai/.
    const ok = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, chat);
    expect(ok.status).toBe(200);
    expect(upstream.received.map((r) => r.url)).toEqual([`/openai/deployments/gpt-4o/chat/completions?${V}`]);
  });
});

describe('recording file names', () => {
  it('stay under 255 bytes, distinct for distinct long paths', () => {
    const long = (tail: string) => `/openai/deployments/${'d'.repeat(300)}${tail}/chat/completions`;
    const a = recordingFileName(long('a'));
    const b = recordingFileName(long('b'));
    expect(Buffer.byteLength(a)).toBeLessThan(255);
    expect(a).not.toBe(b);
    // Short names are the Python simulator's.
    expect(recordingFileName('/openai/deployments/gpt-4o/chat/completions')).toBe('openai_deployments_gpt-4o_chat_completions.yaml');
  });
});

describe('slow and idle clients (standalone server timeouts)', () => {
  it('a request whose body never comes is cut off; a paced stream longer than the timeouts is not', async () => {
    const previous = { ...process.env };
    Object.assign(process.env, { SERVER_HEADERS_TIMEOUT_SECONDS: '1', SERVER_REQUEST_TIMEOUT_SECONDS: '2', SERVER_KEEP_ALIVE_TIMEOUT_SECONDS: '1' });
    const sim = await startSimulator({ SIMULATOR_LATENCY: 'on', LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '100', LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0' });
    process.env = previous;
    try {
      const { port } = new URL(sim.url);
      const closedAfter = await new Promise<number>((resolve) => {
        const started = Date.now();
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `POST /openai/deployments/gpt-4o/chat/completions?${V} HTTP/1.1\r\nHost: x\r\napi-key: ${KEY}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`,
          );
        });
        socket.on('data', () => {});
        socket.on('close', () => resolve(Date.now() - started));
        socket.on('error', () => {});
      });
      expect(closedAfter).toBeLessThan(10_000);
      // 40 tokens at 100 ms: a 4 s stream, past both timeouts, arrives whole.
      const started = Date.now();
      const stream = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, { ...chat, max_tokens: 40, stream: true });
      const text = await stream.text();
      expect(Date.now() - started).toBeGreaterThan(3000);
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    } finally {
      await sim.close();
    }
  });
});

describe('metrics stay bounded however many deployment names clients send', () => {
  it('past 200 names, new ones share the (other) series', async () => {
    const sim = await startSimulator();
    try {
      await Promise.all(
        Array.from({ length: 260 }, (_, i) => post(sim.url, `/openai/deployments/gpt-4o-n${i}/chat/completions?${V}`, { ...chat, max_tokens: 1 })),
      );
      const scrape = await (await fetch(`${sim.url}/++/metrics`, { headers: { 'api-key': KEY } })).text();
      const names = new Set([...scrape.matchAll(/deployment="([^"]+)"/g)].map((m) => m[1]));
      expect(names.has('(other)')).toBe(true);
      expect(names.size).toBeLessThanOrEqual(201);
    } finally {
      await sim.close();
    }
  });
});

describe('hostile JSON Schemas are answered, bounded, never a 500', () => {
  const schemas: Record<string, unknown> = {
    'a self-reference': { $ref: '#' },
    'a $defs loop': { $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' },
    'allOf pointing back': { allOf: [{ $ref: '#' }] },
    'items pointing back': { type: 'array', minItems: 2, items: { $ref: '#' } },
    'minLength 1e9': { type: 'object', properties: { s: { type: 'string', minLength: 1e9 } }, required: ['s'] },
    'minItems 1e9': { type: 'object', properties: { a: { type: 'array', minItems: 1e9, items: { type: 'string' } } }, required: ['a'] },
    'minProperties 1e6': { type: 'object', minProperties: 1e6 },
    'minItems 100x100x100': {
      type: 'array',
      minItems: 100,
      items: { type: 'array', minItems: 100, items: { type: 'array', minItems: 100, items: { type: 'integer' } } },
    },
  };
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  for (const [name, schema] of Object.entries(schemas)) {
    it(`${name}: as response_format and as tool parameters`, async () => {
      const asFormat = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, {
        ...chat,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
      });
      expect(asFormat.status).toBe(200);
      expect((await asFormat.text()).length).toBeLessThan(2_000_000);
      const asTool = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, {
        ...chat,
        max_tokens: 200,
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { v: schema } } } }],
        tool_choice: 'required',
      });
      expect(asTool.status).toBe(200);
      const body = await asTool.json();
      expect(body.usage.completion_tokens).toBeLessThanOrEqual(200);
    });
  }
});

describe("strict schemas past OpenAI's documented limits are a 400 naming the problem", () => {
  const nested = (levels: number): unknown =>
    levels === 1 ? { type: 'object', properties: { leaf: { type: 'string' } } } : { type: 'object', properties: { next: nested(levels - 1) } };
  const manyProperties = { type: 'object', properties: Object.fromEntries(Array.from({ length: 5001 }, (_, i) => [`p${i}`, { type: 'string' }])) };
  const manyEnums = { type: 'object', properties: { e: { type: 'string', enum: Array.from({ length: 1001 }, (_, i) => `v${i}`) } } };
  const longEnum = { type: 'object', properties: { e: { type: 'string', enum: Array.from({ length: 300 }, (_, i) => `${'x'.repeat(60)}${i}`) } } };
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  const strictFormat = (schema: unknown) => ({ ...chat, response_format: { type: 'json_schema', json_schema: { name: 'shape', strict: true, schema } } });

  it('nesting: 10 levels are served, 11 are refused (chat, tools and Responses)', async () => {
    expect((await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, strictFormat(nested(10)))).status).toBe(200);
    const refused = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, strictFormat(nested(11)));
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toMatchObject({
      message: "Invalid schema for response_format 'shape': 11 levels of nesting exceeds limit of 10.",
      type: 'invalid_request_error',
      param: 'response_format',
    });
    const tool = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, {
      ...chat,
      tools: [{ type: 'function', function: { name: 'f', strict: true, parameters: nested(11) } }],
    });
    expect(tool.status).toBe(400);
    expect((await tool.json()).error.param).toBe('tools[0].function.parameters');
    const responses = await post(sim.url, '/openai/v1/responses', {
      model: 'gpt-4o',
      input: 'hi',
      text: { format: { type: 'json_schema', name: 'shape', strict: true, schema: nested(11) } },
    });
    expect(responses.status).toBe(400);
    expect((await responses.json()).error.message).toContain('11 levels of nesting exceeds limit of 10');
  });

  it("properties, enum values and an enum's string length over the limits are refused; non-strict schemas are not checked", async () => {
    for (const [schema, words] of [
      [manyProperties, '5001 object properties exceeds limit of 5000'],
      [manyEnums, '1001 enum values exceeds limit of 1000'],
      [longEnum, 'exceeds the limit of 15000'],
    ] as const) {
      const res = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, strictFormat(schema));
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toContain(words);
    }
    const loose = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, {
      ...chat,
      response_format: { type: 'json_schema', json_schema: { name: 'shape', schema: nested(40) } },
    });
    expect(loose.status).toBe(200);
  });

  it('a strict schema nested 30,000 deep (a 1 MB body) is measured without overflowing', async () => {
    const deep = `${'{"type":"object","properties":{"a":'.repeat(30000)}{"type":"string"}${'}}'.repeat(30000)}`;
    const res = await fetch(`${sim.url}/openai/deployments/gpt-4o/chat/completions?${V}`, {
      method: 'POST',
      headers: { 'api-key': KEY, 'content-type': 'application/json' },
      body: `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"deep","strict":true,"schema":${deep}}}}`,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain('30000 levels of nesting exceeds limit of 10');
  });
});

describe('work per request is bounded', () => {
  it('n 128 x max_tokens 4096 x top_logprobs 20 is a 400 naming n, at once; n 128 alone is served', async () => {
    const sim = await startSimulator();
    try {
      const big = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, {
        ...chat,
        n: 128,
        max_tokens: 4096,
        logprobs: true,
        top_logprobs: 20,
      });
      expect(big.status).toBe(400);
      expect((await big.json()).error.param).toBe('n');
      const many = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, { ...chat, n: 128, max_tokens: 64 });
      expect(many.status).toBe(200);
      expect((await many.json()).choices).toHaveLength(128);
    } finally {
      await sim.close();
    }
  });
});
