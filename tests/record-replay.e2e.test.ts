// Record mode against a fake AOAI on loopback, then a fresh simulator in replay mode with no
// network: the official client gets the same answers, streams keep their pace, errors are not
// saved, and several backends fail over.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { API_VERSION, chatPath, KEY, post, sdk, startSimulator, wav, type TestSimulator } from './helpers';
import { EVENT_GAP_MS, startUpstream, type FakeUpstream } from './upstream';

const UPSTREAM_KEY = 'upstream-key-abc';
const tempDir = () => mkdtempSync(join(tmpdir(), 'aoai-rec-'));

function recordEnv(dir: string, endpoints: string, extra: Record<string, string> = {}) {
  return { SIMULATOR_MODE: 'record', RECORDING_DIR: dir, AZURE_OPENAI_ENDPOINT: endpoints, AZURE_OPENAI_KEY: UPSTREAM_KEY, ...extra };
}

function readRecording(dir: string, file: string): { interactions: any[] } {
  return YAML.parse(readFileSync(join(dir, file), 'utf8'));
}

describe('record, then replay without network', () => {
  let upstream: FakeUpstream;
  const dir = tempDir();
  const recorded: Record<string, unknown> = {};
  const streamedEvents: string[] = [];

  beforeAll(async () => {
    upstream = await startUpstream();
    const sim = await startSimulator(recordEnv(dir, upstream.url));
    try {
      const client = sdk(sim.url, 'gpt-4o');
      recorded.chat = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'stream please' }], stream: true });
      for await (const chunk of stream) streamedEvents.push(JSON.stringify(chunk));
      recorded.embeddings = await sdk(sim.url, 'ada').embeddings.create({ model: 'ada', input: 'some text' });
      recorded.translation = await sdk(sim.url, 'whisper').audio.translations.create({
        model: 'whisper',
        file: await toFile(wav(0.5), 'tone.wav', { type: 'audio/wav' }),
      });
    } finally {
      await sim.close(); // saves whatever is still pending
    }
  });
  afterAll(() => upstream.close());

  it("forwards with the upstream key, never the client's credentials or identifying headers", () => {
    const chat = upstream.received[0];
    expect(chat.headers['api-key']).toBe(UPSTREAM_KEY);
    expect(chat.headers.authorization).toBeUndefined();
    expect(JSON.stringify(upstream.received.map((r) => r.headers))).not.toContain(KEY);
    expect(chat.url).toBe(`/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`);
  });

  it("writes one YAML file per path in the Python simulator's shape, without secrets", () => {
    expect(readdirSync(dir).sort()).toEqual([
      'openai_deployments_ada_embeddings.yaml',
      'openai_deployments_gpt-4o_chat_completions.yaml',
      'openai_deployments_whisper_audio_translations.yaml',
    ]);
    const chat = readRecording(dir, 'openai_deployments_gpt-4o_chat_completions.yaml');
    expect(chat.interactions).toHaveLength(2);
    const [first, streamed] = chat.interactions;
    expect(first.request.method).toBe('POST');
    expect(Object.keys(first.request.headers).sort()).toEqual(['accept', 'content-type']);
    expect(first.request.body_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(first.response.status.code).toBe(200);
    expect(first.response.headers['apim-request-id']).toBeUndefined();
    expect(first.response.headers['x-ratelimit-remaining-tokens']).toEqual(['999']);
    expect(first.context_values).toMatchObject({ 'Deployment-Name': 'gpt-4o', 'Operation-Name': 'chat_completions', Limiter: 'openai-tokens' });
    expect(streamed.response.event_offsets_ms.length).toBe(streamed.response.body.string.split('\n\n').length - 1);
    expect(readFileSync(join(dir, 'openai_deployments_gpt-4o_chat_completions.yaml'), 'utf8')).not.toContain(KEY);
  });

  describe('replay', () => {
    let sim: TestSimulator;
    beforeAll(async () => {
      sim = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir });
    });
    afterAll(() => sim.close());

    it('answers the same requests identically through the openai client', async () => {
      const client = sdk(sim.url, 'gpt-4o');
      const chat = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
      expect(chat).toEqual(recorded.chat);
      expect(await sdk(sim.url, 'ada').embeddings.create({ model: 'ada', input: 'some text' })).toEqual(recorded.embeddings);
    });

    it('replays multipart audio despite a new boundary', async () => {
      const again = await sdk(sim.url, 'whisper').audio.translations.create({
        model: 'whisper',
        file: await toFile(wav(0.5), 'tone.wav', { type: 'audio/wav' }),
      });
      expect(again).toEqual(recorded.translation);
      expect((again as { text: string }).text).toMatch(/heard \d+ bytes/);
    });

    it('replays a stream event by event, in order, at the recorded pace', async () => {
      const started = Date.now();
      const stream = await sdk(sim.url, 'gpt-4o').chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'stream please' }],
        stream: true,
      });
      const events: string[] = [];
      const arrivals: number[] = [];
      for await (const chunk of stream) {
        events.push(JSON.stringify(chunk));
        arrivals.push(Date.now() - started);
      }
      expect(events).toEqual(streamedEvents);
      // Content events were EVENT_GAP_MS apart upstream; the replay keeps the spacing.
      const gaps = arrivals.slice(2, -1).map((t, i) => t - arrivals[i + 1]);
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      expect(mean).toBeGreaterThan(EVENT_GAP_MS * 0.7);
      expect(mean).toBeLessThan(EVENT_GAP_MS * 1.5);
      expect(arrivals.at(-1)!).toBeGreaterThan(EVENT_GAP_MS * (events.length - 3));
    });

    it('answers a request it has no recording for with RecordingNotFound naming method, path and hash', async () => {
      const res = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'never asked' }] });
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body.error.code).toBe('RecordingNotFound');
      expect(body.error.message).toMatch(/POST \/openai\/deployments\/gpt-4o\/chat\/completions \(request hash [0-9a-f]{32}\)/);
    });

    it('still requires the simulator key', async () => {
      const res = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'hello' }] }, { 'api-key': 'wrong' });
      expect(res.status).toBe(401);
    });
  });

  it('with RECORDING_TIME_FACTOR=0 replays a stream as fast as it can', async () => {
    const sim = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir, RECORDING_TIME_FACTOR: '0' });
    try {
      const started = Date.now();
      const stream = await sdk(sim.url, 'gpt-4o').chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'stream please' }],
        stream: true,
      });
      let n = 0;
      for await (const _ of stream) n++;
      expect(n).toBe(streamedEvents.length);
      expect(Date.now() - started).toBeLessThan(EVENT_GAP_MS * 3);
    } finally {
      await sim.close();
    }
  });
});

describe('record mode errors and backends', () => {
  let a: FakeUpstream;
  let b: FakeUpstream;
  beforeAll(async () => {
    a = await startUpstream('a');
    b = await startUpstream('b');
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('passes upstream errors through as they came and does not save them', async () => {
    const dir = tempDir();
    const sim = await startSimulator(recordEnv(dir, a.url));
    try {
      a.fail({ status: 400 });
      const res = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'bad' }] });
      expect(res.status).toBe(400);
      expect(res.headers.get('apim-request-id')).toMatch(/^a-/);
      expect(await res.json()).toEqual({ error: { code: '400', message: 'a says 400' } });
      a.fail(undefined);
      const ok = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'good' }] });
      expect(ok.status).toBe(200);
    } finally {
      await sim.close();
      a.fail(undefined);
    }
    const file = readRecording(dir, 'openai_deployments_gpt-4o_chat_completions.yaml');
    expect(file.interactions.map((i) => i.response.status.code)).toEqual([200]);
  });

  it('moves a request to the next backend after a 429 or 5xx, and skips a cooling backend', async () => {
    const dir = tempDir();
    const sim = await startSimulator(recordEnv(dir, `${a.url}, ${b.url}`, { RECORDING_REPLAY_IN_RECORD_MODE: 'false' }));
    try {
      a.fail({ status: 429, retryAfter: 30 });
      const asked = a.received.length;
      const answers: string[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: `q${i}` }] });
        expect(res.status).toBe(200);
        answers.push((await res.json()).choices[0].message.content);
      }
      expect(answers.every((t) => t.startsWith('b answer'))).toBe(true);
      // a was asked once, then left alone while cooling down.
      expect(a.received.length - asked).toBe(1);

      b.fail({ status: 500 });
      const res = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'all down' }] });
      expect(res.status).toBe(500); // b's answer as it came: a is cooling, so nothing else to try
      const both = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'again' }] });
      expect(both.status).toBe(429);
      expect(Number(both.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await both.json()).error.code).toBe('429');
    } finally {
      await sim.close();
      a.fail(undefined);
      b.fail(undefined);
    }
  });

  it('spreads requests by weight', async () => {
    const before = { a: a.received.length, b: b.received.length };
    const sim = await startSimulator(recordEnv(tempDir(), `${a.url};weight=3, ${b.url}`, { RECORDING_AUTOSAVE: 'false' }));
    try {
      for (let i = 0; i < 8; i++) {
        expect((await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: `w${i}` }] })).status).toBe(200);
      }
    } finally {
      await sim.close();
    }
    expect({ a: a.received.length - before.a, b: b.received.length - before.b }).toEqual({ a: 6, b: 2 });
  });

  it('gives 502 for an unreachable upstream and 504 for one that does not answer in time', async () => {
    const dir = tempDir();
    const closed = await startUpstream('gone');
    const goneUrl = closed.url;
    await closed.close();
    const sim = await startSimulator(recordEnv(dir, goneUrl));
    try {
      const res = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'x' }] });
      expect(res.status).toBe(502);
      expect((await res.json()).error.code).toBe('BadGateway');
    } finally {
      await sim.close();
    }
    const slow = await startSimulator(recordEnv(dir, a.url, { FORWARD_TIMEOUT_SECONDS: '0.3' }));
    try {
      a.fail({ delayMs: 1500 });
      const res = await post(slow.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'slow' }] });
      expect(res.status).toBe(504);
      expect((await res.json()).error.code).toBe('GatewayTimeout');
    } finally {
      a.fail(undefined);
      await slow.close();
    }
  });

  it('with autosave off, saves only on POST /++/save-recordings (key required)', async () => {
    const dir = tempDir();
    const sim = await startSimulator(recordEnv(dir, a.url, { RECORDING_AUTOSAVE: 'false' }));
    try {
      await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'keep me' }] });
      await new Promise((r) => setTimeout(r, 100));
      expect(readdirSync(dir)).toEqual([]);
      expect((await post(sim.url, '/++/save-recordings', '', { 'api-key': 'wrong' })).status).toBe(401);
      const saved = await post(sim.url, '/++/save-recordings', '');
      expect(saved.status).toBe(200);
      expect(await saved.json()).toMatchObject({ files: 1, interactions: 1 });
      expect(readRecording(dir, 'openai_deployments_gpt-4o_chat_completions.yaml').interactions).toHaveLength(1);
    } finally {
      await sim.close();
    }
    const generate = await startSimulator({});
    try {
      const res = await post(generate.url, '/++/save-recordings', '');
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('NotInRecordMode');
    } finally {
      await generate.close();
    }
  });

  it('forwards routes generate mode does not know, and replays them', async () => {
    const dir = tempDir();
    const modelsUrl = `/openai/models?api-version=${API_VERSION}`;
    const sim = await startSimulator(recordEnv(dir, a.url));
    let recordedModels: unknown;
    try {
      const missing = await fetch(`${sim.url}/openai/deployments/gpt-4o/extensions/unknown?api-version=${API_VERSION}`, {
        method: 'POST',
        headers: { 'api-key': KEY },
        body: '{}',
      });
      expect(missing.status).toBe(404); // the upstream's answer
      expect(missing.headers.get('apim-request-id')).toMatch(/^a-/);
      const models = await fetch(sim.url + modelsUrl, { headers: { 'api-key': KEY } });
      expect(models.status).toBe(200);
      recordedModels = await models.json();
    } finally {
      await sim.close();
    }
    expect(readdirSync(dir)).toEqual(['openai_models.yaml']);
    const replay = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir });
    try {
      const models = await fetch(replay.url + modelsUrl, { headers: { 'api-key': KEY } });
      expect(models.status).toBe(200);
      expect(await models.json()).toEqual(recordedModels);
      expect((await fetch(replay.url + modelsUrl)).status).toBe(401);
    } finally {
      await replay.close();
    }
  });
});

describe('replay applies rate limits and optional JSON matching', () => {
  let upstream: FakeUpstream;
  const dir = tempDir();
  beforeAll(async () => {
    upstream = await startUpstream();
    const sim = await startSimulator(recordEnv(dir, upstream.url));
    try {
      await post(sim.url, chatPath('low'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 50, user: 'alice' });
    } finally {
      await sim.close();
    }
  });
  afterAll(() => upstream.close());

  it('limits replayed requests like generated ones', async () => {
    const configPath = join(dir, '..', `deployments-${Date.now()}.json`);
    writeFileSync(configPath, JSON.stringify({ low: { model: 'gpt-4o', tokensPerMinute: 384 } }));
    const sim = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir, OPENAI_DEPLOYMENT_CONFIG_PATH: configPath });
    try {
      const body = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 50, user: 'alice' };
      const first = await post(sim.url, chatPath('low'), body);
      expect(first.status).toBe(200);
      expect(first.headers.get('x-ratelimit-remaining-requests')).not.toBeNull();
      const second = await post(sim.url, chatPath('low'), body);
      expect(second.status).toBe(429);
      expect((await second.json()).error.message).toMatch(/retry after \d+ seconds/);
    } finally {
      await sim.close();
    }
  });

  it('matches canonical JSON and ignores listed fields when asked', async () => {
    const reordered = '{"user":"bob",  "max_tokens":50,"messages":[{"content":"hi","role":"user"}]}';
    const exact = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir });
    try {
      expect((await post(exact.url, chatPath('low'), reordered)).status).toBe(404);
    } finally {
      await exact.close();
    }
    const loose = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir, RECORDING_IGNORE_FIELDS: 'user' });
    try {
      const res = await post(loose.url, chatPath('low'), reordered);
      expect(res.status).toBe(200);
      expect((await res.json()).choices[0].message.content).toContain('to hi');
    } finally {
      await loose.close();
    }
  });
});

describe('record mode without a key', () => {
  it("authenticates upstream with an Entra ID token from the app's managed identity", async () => {
    // App Service / Functions hand an app its identity through IDENTITY_ENDPOINT + IDENTITY_HEADER.
    const { createServer } = await import('node:http');
    const identityRequests: string[] = [];
    const identity = createServer((req, res) => {
      identityRequests.push(`${req.url} ${req.headers['x-identity-header']}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: 'entra-token-1',
          token_type: 'Bearer',
          resource: 'https://cognitiveservices.azure.com',
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        }),
      );
    });
    await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve));
    const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
    process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(identity.address() as { port: number }).port}/msi/token`;
    process.env.IDENTITY_HEADER = 'identity-secret';
    const upstream = await startUpstream();
    const sim = await startSimulator({ SIMULATOR_MODE: 'record', RECORDING_DIR: tempDir(), AZURE_OPENAI_ENDPOINT: upstream.url });
    try {
      for (const q of ['one', 'two']) {
        expect((await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: q }] })).status).toBe(200);
      }
      expect(upstream.received.map((r) => r.headers.authorization)).toEqual(['Bearer entra-token-1', 'Bearer entra-token-1']);
      expect(upstream.received.every((r) => r.headers['api-key'] === undefined)).toBe(true);
      // One token, reused until it nears expiry; asked for the Cognitive Services audience.
      expect(identityRequests).toHaveLength(1);
      expect(identityRequests[0]).toMatch(/resource=https%3A%2F%2Fcognitiveservices\.azure\.com identity-secret$/);
    } finally {
      await sim.close();
      await upstream.close();
      identity.close();
      for (const [name, value] of [
        ['IDENTITY_ENDPOINT', saved.endpoint],
        ['IDENTITY_HEADER', saved.header],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
