// Recording stores and files: one contract for the folder and Blob stores (against real Azurite),
// files written by the Python simulator, uploads seen without a restart, and two instances
// recording into one container.

import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startAzurite, type Azurite } from '../loadtest/azurite';
import { blobRecordingStore } from '../src/storage/recording-blob';
import { bodyHash } from '../src/modes/recordings/format';
import type { RecordingStore } from '../src/modes/recordings/store';
import { folderRecordingStore } from '../src/storage/recording-folder';
import { chatPath, KEY, post, sdk, sseData, startSimulator } from './helpers';
import { startUpstream } from './upstream';

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(() => azurite.close());

let containers = 0;
const newContainer = () => `rec${Date.now().toString(36)}${containers++}`;

const stores: [string, () => RecordingStore][] = [
  ['folder', () => folderRecordingStore(mkdtempSync(join(tmpdir(), 'aoai-store-')))],
  ['blob', () => blobRecordingStore(azurite.connectionString, newContainer())],
];

describe.each(stores)('RecordingStore contract: %s', (_name, makeStore) => {
  it('lists nothing and reads nothing before any write', async () => {
    const store = makeStore();
    expect((await store.list()).size).toBe(0);
    expect(await store.read('a.yaml')).toBeUndefined();
  });

  it('creates only when absent, and reads back the text with the listed version', async () => {
    const store = makeStore();
    const v1 = await store.write('a.yaml', 'one', undefined);
    expect(v1).toBeTruthy();
    expect(await store.write('a.yaml', 'two', undefined)).toBeUndefined();
    expect(await store.read('a.yaml')).toEqual({ text: 'one', version: v1 });
    expect([...(await store.list())]).toEqual([['a.yaml', v1]]);
  });

  it('replaces only at the version the writer read', async () => {
    const store = makeStore();
    const v1 = (await store.write('a.yaml', 'one', undefined))!;
    const v2 = await store.write('a.yaml', 'two', v1);
    expect(v2).toBeTruthy();
    expect(v2).not.toBe(v1);
    expect(await store.write('a.yaml', 'stale', v1)).toBeUndefined();
    expect((await store.read('a.yaml'))!.text).toBe('two');
  });

  it('loses no update among concurrent read-modify-write writers', async () => {
    const store = makeStore();
    await store.write('n.yaml', '0', undefined);
    const writer = async () => {
      for (let i = 0; i < 10; i++) {
        for (;;) {
          const current = (await store.read('n.yaml'))!;
          if (await store.write('n.yaml', String(Number(current.text) + 1), current.version)) break;
        }
      }
    };
    await Promise.all([writer(), writer(), writer(), writer()]);
    expect((await store.read('n.yaml'))!.text).toBe('40');
  });

  it('lists only recording files', async () => {
    const store = makeStore();
    await store.write('x.yaml', 'x', undefined);
    await store.write('notes.txt', 'not a recording', undefined);
    expect([...(await store.list()).keys()]).toEqual(['x.yaml']);
  });
});

describe('files written by the Python simulator', () => {
  const fixtures = join(__dirname, 'fixtures', 'python-recordings');

  it('hash like the Python simulator, multipart boundaries normalised', () => {
    const a = '--abc\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n--abc--\r\n';
    const b = a.replaceAll('abc', 'xyz123');
    expect(bodyHash(a, 'multipart/form-data; boundary=abc')).toBe(bodyHash(b, 'multipart/form-data; boundary=xyz123'));
    expect(bodyHash(a, 'application/json')).not.toBe(bodyHash(b, 'application/json'));
    // The Python simulator's recorded hash for its fixture body (see fixtures/python-recordings/make.py).
    const file = YAML.parse(readFileSync(join(fixtures, 'openai_deployments_whisper_audio_translations.yaml'), 'utf8'), { customTags: ['binary'] });
    const request = file.interactions[0].request;
    expect(bodyHash(request.body, request.headers['content-type'][0])).toBe(request.body_hash);
  });

  it('replay: hashed, hand-edited (no body_hash), binary stream and multipart interactions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aoai-py-'));
    for (const f of readdirSync(fixtures).filter((n) => n.endsWith('.yaml'))) copyFileSync(join(fixtures, f), join(dir, f));
    const sim = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir });
    try {
      // The bodies as openai-python sent them.
      const completion = await post(
        sim.url,
        `/openai/deployments/deployment1/completions?api-version=2023-12-01-preview`,
        '{"model": "deployment1", "prompt": "This is a test", "max_tokens": 10}',
      );
      expect(completion.status).toBe(200);
      expect((await completion.json()).choices[0].text).toBe('This is a test');

      const chat = await post(
        sim.url,
        chatPath('gpt-35-turbo'),
        '{"messages": [{"role": "user", "content": "What is the capital of France?"}], "model": "gpt-35-turbo"}',
      );
      expect(chat.status).toBe(200);
      expect((await chat.json()).choices[0].message.content).toBe('Paris.');

      const stream = await post(
        sim.url,
        chatPath('gpt-35-turbo'),
        '{"messages": [{"role": "user", "content": "Count to three"}], "model": "gpt-35-turbo", "stream": true}',
      );
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const data = await sseData(stream);
      expect(data.at(-1)).toBe('[DONE]');
      expect(
        data
          .slice(1, -1)
          .map((d) => JSON.parse(d).choices[0].delta.content)
          .join(''),
      ).toBe('One, two, three.');

      const boundary = 'zz-other-boundary-42';
      const form =
        `--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="hello.wav"\r\n` +
        `Content-Type: audio/wav\r\n\r\nRIFF-not-really-audio\r\n--${boundary}--\r\n`;
      const audio = await fetch(`${sim.url}/openai/deployments/whisper/audio/translations?api-version=2024-06-01`, {
        method: 'POST',
        headers: { 'api-key': KEY, 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: form,
      });
      expect(audio.status).toBe(200);
      expect(await audio.json()).toEqual({ text: 'Hello from a Python recording' });
    } finally {
      await sim.close();
    }
  });

  it('hand-edited files: unquoted JSON bodies work, broken entries are skipped, odd fields never give a 500', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aoai-edit-'));
    writeFileSync(
      join(dir, 'openai_deployments_edited_chat_completions.yaml'),
      [
        'interactions:',
        '  - request: { method: POST, uri: /openai/deployments/edited/chat/completions, body: {"messages": [{"role": "user", "content": "a"}]} }',
        '    response:',
        '      status: { code: 200 }',
        '      headers: { content-type: [application/json], "bad header": [x], x-custom: [kept] }',
        '      body: { string: {"choices": [{"message": {"content": "unquoted"}}]} }',
        '      duration_ms: soon',
        '      event_offsets_ms: nonsense',
        '  - request: { method: POST, uri: /openai/deployments/edited/chat/completions, body: "{\\"b\\": 1}" }',
        '    response: { status: { code: 999 }, body: { string: nope } }',
        '  - request: { method: POST, uri: /openai/deployments/edited/chat/completions }',
        '    response: { status: { code: 200 } }',
        '  - not an interaction',
        '',
      ].join('\n'),
    );
    const sim = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir });
    try {
      const res = await post(sim.url, chatPath('edited'), '{"messages":[{"role":"user","content":"a"}]}');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-custom')).toBe('kept');
      expect(await res.json()).toEqual({ choices: [{ message: { content: 'unquoted' } }] });
      const skipped = await post(sim.url, chatPath('edited'), '{"b": 1}');
      expect(skipped.status).toBe(404);
      expect((await skipped.json()).error.code).toBe('RecordingNotFound');
    } finally {
      await sim.close();
    }
  });

  it('a file that cannot be parsed is reported and never overwritten by recording', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aoai-bad-'));
    const broken = 'interactions:\n  - request: [unclosed\n';
    writeFileSync(join(dir, 'openai_deployments_gpt-4o_chat_completions.yaml'), broken);
    const upstream = await startUpstream();
    const sim = await startSimulator({
      SIMULATOR_MODE: 'record',
      RECORDING_DIR: dir,
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_KEY: 'k',
    });
    try {
      const res = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(200); // forwarded all the same
    } finally {
      await sim.close();
      await upstream.close();
    }
    expect(readFileSync(join(dir, 'openai_deployments_gpt-4o_chat_completions.yaml'), 'utf8')).toBe(broken);
  });
});

describe('recordings in Blob Storage', () => {
  it('replay serves a recording uploaded with the Blob SDK, without a restart', async () => {
    const container = newContainer();
    const sim = await startSimulator({
      SIMULATOR_MODE: 'replay',
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      RECORDING_CONTAINER: container,
    });
    try {
      const body = '{"messages": [{"role": "user", "content": "What is the capital of France?"}], "model": "gpt-35-turbo"}';
      expect((await post(sim.url, chatPath('gpt-35-turbo'), body)).status).toBe(404);
      // As Storage Explorer would: upload the file into the container.
      const file = 'openai_deployments_gpt-35-turbo_chat_completions.yaml';
      const text = readFileSync(join(__dirname, 'fixtures', 'python-recordings', file));
      const client = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);
      await client.createIfNotExists();
      await client.getBlockBlobClient(file).upload(text, text.length);
      await new Promise((r) => setTimeout(r, 1100)); // a miss re-lists at most once a second
      const res = await post(sim.url, chatPath('gpt-35-turbo'), body);
      expect(res.status).toBe(200);
      expect((await res.json()).choices[0].message.content).toBe('Paris.');

      // An edited upload replaces what is served.
      await client.getBlockBlobClient(file).upload(text.toString().replace('Paris.', 'Paris!'), text.length);
      await new Promise((r) => setTimeout(r, 1100));
      await post(sim.url, chatPath('gpt-35-turbo'), '{}'); // a miss prompts the re-list
      const edited = await post(sim.url, chatPath('gpt-35-turbo'), body);
      expect((await edited.json()).choices[0].message.content).toBe('Paris!');
    } finally {
      await sim.close();
    }
  });

  it('a store that cannot be reached: replay answers 503, record still forwards', async () => {
    const closedStore = azurite.connectionString.replace(/BlobEndpoint=http:\/\/127\.0\.0\.1:\d+/, 'BlobEndpoint=http://127.0.0.1:9');
    const replay = await startSimulator({ SIMULATOR_MODE: 'replay', AZURE_STORAGE_CONNECTION_STRING: closedStore });
    try {
      const res = await post(replay.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'x' }] });
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe('RecordingStoreUnavailable');
    } finally {
      await replay.close();
    }
    const upstream = await startUpstream();
    const record = await startSimulator({
      SIMULATOR_MODE: 'record',
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_KEY: 'k',
      AZURE_STORAGE_CONNECTION_STRING: closedStore,
    });
    try {
      const res = await post(record.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'x' }] });
      expect(res.status).toBe(200);
    } finally {
      await record.close();
      await upstream.close();
    }
  }, 30_000);

  it('two instances recording into one container concurrently keep every interaction', async () => {
    const container = newContainer();
    const upstream = await startUpstream();
    const env = {
      SIMULATOR_MODE: 'record',
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_KEY: 'k',
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      RECORDING_CONTAINER: container,
    };
    const [one, two] = await Promise.all([startSimulator(env), startSimulator(env)]);
    const perInstance = 25;
    try {
      await Promise.all(
        [one, two].flatMap((sim, s) =>
          Array.from({ length: perInstance }, (_, i) =>
            sdk(sim.url, 'gpt-4o').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `instance ${s} question ${i}` }] }),
          ),
        ),
      );
    } finally {
      await Promise.all([one.close(), two.close()]);
      await upstream.close();
    }
    const client = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);
    const text = (await client.getBlobClient('openai_deployments_gpt-4o_chat_completions.yaml').downloadToBuffer()).toString();
    const prompts = YAML.parse(text).interactions.map((i: any) => JSON.parse(i.request.body).messages[0].content);
    expect(prompts).toHaveLength(2 * perInstance);
    expect(new Set(prompts).size).toBe(2 * perInstance);

    // And a replay instance on the same container serves every one of them.
    const replay = await startSimulator({ ...env, SIMULATOR_MODE: 'replay', AZURE_OPENAI_ENDPOINT: '' });
    try {
      const answer = await sdk(replay.url, 'gpt-4o').chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'instance 1 question 7' }],
      });
      expect(answer.choices[0].message.content).toContain('to instance 1 question 7');
    } finally {
      await replay.close();
    }
  }, 60_000);
});
