// The Azure Functions layer, without a host: registrations captured from `app.http`, and each
// handler driven with HttpRequest/InvocationContext must answer exactly as the standalone server.

import { readFileSync } from 'node:fs';
import { app, HttpRequest, HttpResponse, InvocationContext, type HttpFunctionOptions } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ALL_ROUTES, OPERATION_ROUTES } from '../src/routes';
import { API_VERSION, KEY, startSimulator, wav, type TestSimulator } from './helpers';

const registrations = new Map<string, HttpFunctionOptions>();
const setupCalls: unknown[] = [];
let sim: TestSimulator;

beforeAll(async () => {
  vi.spyOn(app, 'http').mockImplementation((name: string, options: HttpFunctionOptions) => {
    registrations.set(name, options);
  });
  vi.spyOn(app, 'setup').mockImplementation((options: unknown) => {
    setupCalls.push(options);
  });
  process.env.SIMULATOR_API_KEY = KEY;
  process.env.SIMULATOR_LATENCY = 'off';
  await import('../functions/index');
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe('registrations', () => {
  it('registers one anonymous function per route, with streaming enabled', () => {
    expect([...registrations.keys()].sort()).toEqual(ALL_ROUTES.map((r) => r.name).sort());
    for (const route of ALL_ROUTES) {
      const options = registrations.get(route.name)!;
      expect(options.route).toBe(route.functionsRoute);
      expect(options.methods).toEqual(route.methods);
      expect(options.authLevel).toBe('anonymous');
    }
    expect(registrations.get('chatCompletions')!.route).toBe('openai/deployments/{deployment}/chat/completions');
    expect(setupCalls).toEqual([{ enableHttpStream: true }]);
  });

  it('keeps every route clear of the host-reserved admin and runtime prefixes', () => {
    // The host rejects (and 404s) any route that, lowercased and trimmed of '/', starts with these.
    for (const options of registrations.values()) {
      const route = (options.route ?? '').toLowerCase().replace(/^\/+|\/+$/g, '');
      expect(route.startsWith('admin')).toBe(false);
      expect(route.startsWith('runtime')).toBe(false);
    }
  });

  it('sets an empty route prefix in host.json', () => {
    const host = JSON.parse(readFileSync('host.json', 'utf8'));
    expect(host.version).toBe('2.0');
    expect(host.extensions.http.routePrefix).toBe('');
  });
});

/** Request through a registered function, as the Functions host would deliver it. */
async function viaFunctions(name: string, method: string, path: string, headers: Record<string, string>, body?: Uint8Array): Promise<Response> {
  const handler = registrations.get(name)!.handler;
  const request = new HttpRequest({ method, url: `http://localhost:7071${path}`, headers, body: body ? { bytes: body } : undefined });
  const context = new InvocationContext({ invocationId: 'test', functionName: name });
  const result = await handler(request, context);
  const response = new HttpResponse(result as ConstructorParameters<typeof HttpResponse>[0]);
  return new Response(response.body, { status: response.status, headers: response.headers });
}

/** Ids, timestamps, request ids and image seeds differ per call; everything else must match. */
const normalise = (text: string) =>
  text
    .replace(/(chatcmpl|cmpl)-[A-Za-z0-9]{29}/g, '$1-ID')
    .replace(/call_[A-Za-z0-9]{24}/g, 'call_ID')
    .replace(/"created":\d+/g, '"created":0')
    .replace(/http:\/\/[^/]+\/\+\+\/images\/(\d+x\d+)\/[A-Za-z0-9_-]+\.png/g, 'IMAGE-$1');

const headerNames = (res: Response) =>
  [...res.headers.keys()].filter((k) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(k)).sort();

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];

const cases: { name: string; route: string; deployment: string; body: () => Promise<[Uint8Array, string]> }[] = [
  {
    name: 'chat',
    route: 'chatCompletions',
    deployment: 'gpt-4o',
    body: async () => [json({ messages: [{ role: 'user', content: 'Hi' }], seed: 5, max_tokens: 8 }), 'application/json'],
  },
  {
    name: 'chat stream',
    route: 'chatCompletions',
    deployment: 'gpt-4o',
    body: async () => [
      json({ messages: [{ role: 'user', content: 'Hi' }], seed: 5, max_tokens: 8, stream: true, stream_options: { include_usage: true } }),
      'application/json',
    ],
  },
  {
    name: 'chat tool stream',
    route: 'chatCompletions',
    deployment: 'gpt-4o',
    body: async () => [json({ messages: [{ role: 'user', content: 'Hi' }], seed: 9, tools, stream: true }), 'application/json'],
  },
  {
    name: 'completions',
    route: 'completions',
    deployment: 'gpt-35-turbo-instruct',
    body: async () => [json({ prompt: 'Hi', seed: 1, max_tokens: 5 }), 'application/json'],
  },
  {
    name: 'completions stream',
    route: 'completions',
    deployment: 'gpt-35-turbo-instruct',
    body: async () => [json({ prompt: 'Hi', seed: 1, max_tokens: 5, stream: true }), 'application/json'],
  },
  {
    name: 'embeddings',
    route: 'embeddings',
    deployment: 'text-embedding-3-small',
    body: async () => [json({ input: ['a', 'b'], encoding_format: 'base64', dimensions: 64 }), 'application/json'],
  },
  { name: 'images', route: 'imageGenerations', deployment: 'dall-e-3', body: async () => [json({ prompt: 'A boat', size: '1024x1792' }), 'application/json'] },
  ...(['audioTranscriptions', 'audioTranslations'] as const).map((route) => ({
    name: route,
    route,
    deployment: 'whisper',
    body: async (): Promise<[Uint8Array, string]> => {
      const form = new FormData();
      form.set('file', new Blob([wav(2)]), 'a.wav');
      form.set('response_format', 'verbose_json');
      const encoded = new Response(form);
      return [new Uint8Array(await encoded.arrayBuffer()), encoded.headers.get('content-type')!];
    },
  })),
];

describe('handlers answer as the standalone server does', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const op = OPERATION_ROUTES.find((r) => r.name === c.route)!;
      const path = op.path.replace(':deployment', c.deployment) + `?api-version=${API_VERSION}`;
      const [body, contentType] = await c.body();
      const headers = { 'api-key': KEY, 'content-type': contentType };
      const fromFunctions = await viaFunctions(c.route, 'POST', path, headers, body);
      const fromServer = await fetch(sim.url + path, { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer> });
      expect(fromFunctions.status).toBe(200);
      expect(fromFunctions.status).toBe(fromServer.status);
      expect(fromFunctions.headers.get('content-type')).toBe(fromServer.headers.get('content-type'));
      expect(headerNames(fromFunctions)).toEqual(headerNames(fromServer));
      expect(normalise(await fromFunctions.text())).toBe(normalise(await fromServer.text()));
    });
  }

  it('errors, health, image files, the pages and unknown paths', async () => {
    const pairs: [string, string, string][] = [
      ['chatCompletions', 'POST', `/openai/deployments/gpt-4o/chat/completions`],
      ['health', 'GET', '/'],
      ['generatedImages', 'GET', '/++/images/64x32/abc.png'],
      ['zzCatchAll', 'GET', '/openai/unknown?api-version=2024-10-21'],
      ['listModels', 'GET', '/openai/models?api-version=2024-10-21'],
      ['saveRecordings', 'POST', '/++/save-recordings'],
      ['playground', 'GET', '/playground'],
      ['dashboard', 'GET', '/++/dashboard'],
      ['pageAssets', 'GET', '/++/assets/uPlot.min.css'],
    ];
    for (const [name, method, path] of pairs) {
      const fromFunctions = await viaFunctions(name, method, path, { 'api-key': KEY }, method === 'POST' ? json({}) : undefined);
      const fromServer = await fetch(sim.url + path, { method, headers: { 'api-key': KEY }, body: method === 'POST' ? JSON.stringify({}) : undefined });
      expect(fromFunctions.status).toBe(fromServer.status);
      expect(Buffer.from(await fromFunctions.arrayBuffer())).toEqual(Buffer.from(await fromServer.arrayBuffer()));
    }
  });
});

describe('replay mode through the Functions handlers', () => {
  it('serves a recording, paced stream included', async () => {
    // A fresh load of the app, configured as a replaying Functions instance would be.
    vi.resetModules();
    process.env.SIMULATOR_MODE = 'replay';
    process.env.RECORDING_DIR = 'tests/fixtures/python-recordings';
    try {
      await import('../functions/index');
      const path = `/openai/deployments/gpt-35-turbo/chat/completions?api-version=${API_VERSION}`;
      const body = '{"messages": [{"role": "user", "content": "Count to three"}], "model": "gpt-35-turbo", "stream": true}';
      const res = await viaFunctions('chatCompletions', 'POST', path, { 'api-key': KEY, 'content-type': 'application/json' }, new TextEncoder().encode(body));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await res.text()).toContain('"content": ", three."');
      const miss = await viaFunctions('chatCompletions', 'POST', path, { 'api-key': KEY, 'content-type': 'application/json' }, json({}));
      expect(miss.status).toBe(404);
      expect((await miss.json()).error.code).toBe('RecordingNotFound');
    } finally {
      delete process.env.SIMULATOR_MODE;
      delete process.env.RECORDING_DIR;
    }
  });
});

describe("the host's route order", () => {
  // The host orders functions by name (FunctionMetadataManager: OrderBy(f => f.Name,
  // OrdinalIgnoreCase)) and maps their routes in that order; the first match wins.
  const ordered = () => [...registrations.entries()].sort(([a], [b]) => (a.toUpperCase() < b.toUpperCase() ? -1 : a.toUpperCase() > b.toUpperCase() ? 1 : 0));
  /** ASP.NET template matching as the host uses it: literals, {param}, {*catchAll}, an optional {x:maxlength(0)?}. */
  function matches(template: string, path: string): boolean {
    const t = template.split('/');
    const p = path === '' ? [] : path.split('/');
    for (let i = 0; i < t.length; i++) {
      const param = /^\{(\*)?[A-Za-z]+(:[^}?]+)?(\?)?\}$/.exec(t[i]);
      if (param?.[1]) return true;
      if (param) {
        if (i >= p.length) return Boolean(param[3]) && i === t.length - 1;
        if (!p[i] || (param[2]?.includes('maxlength(0)') && p[i].length > 0)) return false;
        continue;
      }
      if (i >= p.length || t[i].toLowerCase() !== p[i].toLowerCase()) return false;
    }
    return p.length === t.length;
  }
  const samplePath = (path: string) =>
    path
      .replace(/^\//, '')
      .replace(':deployment', 'gpt-4o')
      .replace(':id', 'resp_1')
      .replace(':size', '64x32')
      .replace(':file', 'a.png')
      .replace('*', 'some/other/path');
  const reached = (method: string, path: string) => ordered().find(([, o]) => (o.methods as string[]).includes(method) && matches(o.route!, path))?.[0];

  it('every route reaches its own function', () => {
    for (const route of ALL_ROUTES) for (const method of route.methods) expect(reached(method, samplePath(route.path))).toBe(route.name);
  });

  it('HEAD and OPTIONS reach the catch-all, where the core answers them as the standalone server does', async () => {
    for (const method of ['HEAD', 'OPTIONS']) {
      const path = `/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`;
      expect(reached(method, samplePath('/openai/deployments/:deployment/chat/completions'))).toBe('zzCatchAll');
      const fromFunctions = await viaFunctions('zzCatchAll', method, path, { 'api-key': KEY });
      const fromServer = await fetch(sim.url + path, { method, headers: { 'api-key': KEY } });
      expect(fromFunctions.status).toBe(fromServer.status);
      expect(fromFunctions.status).toBe(405);
    }
  });
});

describe('every way out of a handler is an answer', () => {
  it('a storage connection string the SDKs refuse: an AOAI-shaped 500, not a throw', async () => {
    vi.resetModules();
    process.env.AZURE_STORAGE_CONNECTION_STRING = 'not a connection string';
    try {
      await import('../functions/index');
      const res = await viaFunctions(
        'chatCompletions',
        'POST',
        `/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`,
        { 'api-key': KEY },
        json({}),
      );
      expect(res.status).toBe(500);
      expect((await res.json()).error).toMatchObject({ code: '500', message: 'Internal server error' });
    } finally {
      delete process.env.AZURE_STORAGE_CONNECTION_STRING;
      vi.resetModules();
      await import('../functions/index');
    }
  });

  it('a body that fails mid-stream ends with the error event', async () => {
    const { neverFailingBody } = await import('../src');
    let sent = false;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error('upstream went away'));
        sent = true;
        controller.enqueue(new TextEncoder().encode('data: {"choices":[]}\n\n'));
      },
    });
    const text = await new Response(neverFailingBody(failing, 'text/event-stream')).text();
    expect(text).toMatch(/^data: \{"choices":\[\]\}\n\ndata: \{"error":\{.*"code":"server_error"\}\}\n\n$/);
  });
});
