// Stored responses across instances: the store contract on memory and on Azurite's Blob service,
// two simulators sharing one Azurite (create on one; retrieve, continue, poll, delete on the
// other), and a Responses stream recorded from an upstream and replayed to its end.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../loadtest/azurite';
import { memoryResponseStore, type ResponseStore } from '../src/operations/responses/store';
import { blobResponseStore } from '../src/storage/response-blob';
import { apiError, KEY, post, startSimulator, type TestSimulator } from './helpers';

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(() => azurite.close());

const stores: [string, () => ResponseStore][] = [
  ['memory', () => memoryResponseStore(3)],
  ['blob (Azurite)', () => blobResponseStore(azurite.connectionString, `responses${Date.now().toString(36)}`)],
];
for (const [name, make] of stores) {
  describe(`response store contract: ${name}`, () => {
    it('puts, gets, replaces and deletes; unknown ids are undefined', async () => {
      const store = make();
      expect(await store.get('resp_unknown')).toBeUndefined();
      const stored = { response: { id: 'resp_a', status: 'completed' }, conversation: [{ id: 'msg_1', type: 'message' }], completesAt: 5 };
      await store.put('resp_a', stored);
      expect(await store.get('resp_a')).toEqual(stored);
      await store.put('resp_a', { ...stored, cancelledAt: 3 });
      expect((await store.get('resp_a'))!.cancelledAt).toBe(3);
      expect(await store.delete('resp_a')).toBe(true);
      expect(await store.delete('resp_a')).toBe(false);
      expect(await store.get('resp_a')).toBeUndefined();
    });
  });
}

describe('two instances on one Azurite', () => {
  let a: TestSimulator;
  let b: TestSimulator;
  beforeAll(async () => {
    const env = {
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      RESPONSES_CONTAINER: `shared${Date.now().toString(36)}`,
      SIMULATOR_LATENCY: 'on',
      LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '10',
      LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0',
    };
    [a, b] = await Promise.all([startSimulator(env), startSimulator(env)]);
  });
  afterAll(() => Promise.all([a.close(), b.close()]));
  const client = (sim: TestSimulator) => new OpenAI({ baseURL: `${sim.url}/openai/v1/`, apiKey: KEY, maxRetries: 0 });

  it('created on one: retrieved, continued, polled in background and deleted through the other', async () => {
    const created = await client(a).responses.create({ model: 'gpt-4o', input: 'Remember the number 7', max_output_tokens: 30 });
    const seen = await client(b).responses.retrieve(created.id);
    expect(seen.output_text).toBe(created.output_text);

    const continued = await client(b).responses.create({ model: 'gpt-4o', input: 'Which number?', previous_response_id: created.id, max_output_tokens: 30 });
    expect(continued.previous_response_id).toBe(created.id);
    expect(continued.usage!.input_tokens).toBeGreaterThan(created.usage!.input_tokens + created.usage!.output_tokens);

    const queued = await client(a).responses.create({ model: 'gpt-4o', input: 'Take your time', background: true, max_output_tokens: 40 });
    expect(queued.status).toBe('queued');
    expect((await client(b).responses.retrieve(queued.id)).status).toBe('in_progress');
    let polled = await client(b).responses.retrieve(queued.id);
    for (let i = 0; i < 200 && polled.status === 'in_progress'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      polled = await client(b).responses.retrieve(queued.id);
    }
    expect(['completed', 'incomplete']).toContain(polled.status);

    await client(b).responses.delete(created.id);
    expect((await apiError(client(a).responses.retrieve(created.id))).status).toBe(404);
  });
});

describe('record and replay of a Responses stream', () => {
  it('replays every recorded event and ends with the recording (no [DONE] needed)', async () => {
    const upstream = await startSimulator();
    const dir = mkdtempSync(join(tmpdir(), 'aoai-responses-rec-'));
    const recorder = await startSimulator({ SIMULATOR_MODE: 'record', RECORDING_DIR: dir, AZURE_OPENAI_ENDPOINT: upstream.url, AZURE_OPENAI_KEY: KEY });
    const path = '/openai/responses?api-version=2025-04-01-preview';
    const body = { model: 'gpt-4o', input: 'Stream a story', stream: true, max_output_tokens: 40 };
    let recorded: string;
    try {
      const live = await post(recorder.url, path, body);
      expect(live.status).toBe(200);
      recorded = await live.text();
    } finally {
      await recorder.close();
    }
    const replayer = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir });
    try {
      const replayed = await post(replayer.url, path, body);
      expect(replayed.status).toBe(200);
      const text = await Promise.race([replayed.text(), new Promise<string>((_, reject) => setTimeout(() => reject(new Error('replay never ended')), 20_000))]);
      expect(text).toBe(recorded);
      expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: response\.(completed|incomplete)/);
    } finally {
      await Promise.all([replayer.close(), upstream.close()]);
    }
  });
});
