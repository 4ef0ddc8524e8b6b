// Each example extension loaded through EXTENSION_PATH and exercised over HTTP, and broken
// extensions failing at start-up with a clear message.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_SCRIPT } from '../loadtest/processes';
import { ExtensionError } from '../src/extensions';
import { chatPath, KEY, post, sdk, startSimulator, type TestSimulator } from './helpers';

const example = (name: string) => join(__dirname, '..', 'dist', 'examples', name);

describe('examples/echo', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ EXTENSION_PATH: example('echo') });
  });
  afterAll(() => sim.close());

  it('adds POST /echo behind the simulator key', async () => {
    const res = await fetch(`${sim.url}/echo`, { method: 'POST', headers: { 'api-key': KEY }, body: 'hello' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Echo: hello');
    expect((await fetch(`${sim.url}/echo`, { method: 'POST', body: 'hello' })).status).toBe(401);
  });

  it('leaves the built-in routes alone', async () => {
    expect((await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 })).status).toBe(200);
  });
});

describe('examples/replace-chat', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ EXTENSION_PATH: example('replace-chat') });
  });
  afterAll(() => sim.close());

  it('answers every chat with its fixed text, finish_reason stop, streamed or not', async () => {
    const client = sdk(sim.url, 'gpt-4o');
    const answer = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'anything' }] });
    expect(answer.choices[0].message.content).toBe('This is a canned answer from the replace-chat extension.');
    expect(answer.choices[0].finish_reason).toBe('stop');
    expect(answer.usage!.completion_tokens).toBeLessThanOrEqual(15);
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'anything' }], stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('This is a canned answer from the replace-chat extension.');
    expect(finish).toBe('stop');
  });

  it("keeps the simulator's validation in front of the replacement", async () => {
    const res = await post(sim.url, chatPath('gpt-4o'), { messages: 'not a list' });
    expect(res.status).toBe(400);
  });
});

describe('examples/document-intelligence', () => {
  let sim: TestSimulator;
  const saved = { rps: process.env.DOC_INTELLIGENCE_RPS, speed: process.env.DOC_INTELLIGENCE_SECONDS_PER_MB };
  beforeAll(async () => {
    process.env.DOC_INTELLIGENCE_RPS = '1';
    process.env.DOC_INTELLIGENCE_SECONDS_PER_MB = '1';
    sim = await startSimulator({ EXTENSION_PATH: example('document-intelligence') });
  });
  afterAll(async () => {
    await sim.close();
    for (const [name, value] of [
      ['DOC_INTELLIGENCE_RPS', saved.rps],
      ['DOC_INTELLIGENCE_SECONDS_PER_MB', saved.speed],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const analyze = (body: Uint8Array, key = KEY) =>
    fetch(`${sim.url}/formrecognizer/documentModels/prebuilt-receipt:analyze?api-version=2023-07-31`, {
      method: 'POST',
      headers: { 'ocp-apim-subscription-key': key, 'content-type': 'application/octet-stream' },
      body: body as Uint8Array<ArrayBuffer>,
    });

  it('analyze → 202 with Operation-Location; the poll says running, then succeeded with one page', async () => {
    expect((await analyze(new Uint8Array(10), 'wrong')).status).toBe(401);
    await new Promise((r) => setTimeout(r, 1100)); // a fresh second for the 1-per-second limit
    const submitted = await analyze(new Uint8Array(500_000));
    expect(submitted.status).toBe(202);
    const location = submitted.headers.get('operation-location')!;
    expect(location).toMatch(/\/formrecognizer\/documentModels\/prebuilt-receipt\/analyzeResults\/[\w-]+\?api-version=2023-07-31$/);
    const poll = async () => (await fetch(location, { headers: { 'ocp-apim-subscription-key': KEY } })).json();
    expect((await poll()).status).toBe('running');
    await new Promise((r) => setTimeout(r, 600));
    const done = await poll();
    expect(done.status).toBe('succeeded');
    expect(done.analyzeResult.pages).toHaveLength(1);
    expect(done.analyzeResult.modelId).toBe('prebuilt-receipt');
  });

  it("limits analyze requests per second on the simulator's counters", async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const statuses = (await Promise.all([analyze(new Uint8Array(10)), analyze(new Uint8Array(10))])).map((r) => r.status).sort();
    expect(statuses).toEqual([202, 429]);
  });
});

describe('a broken extension', () => {
  it('stops start-up with a message that says what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aoai-ext-'));
    writeFileSync(join(dir, 'no-init.js'), 'module.exports = { hello: 1 };');
    writeFileSync(join(dir, 'throws.js'), 'exports.initialize = () => { throw new Error("boom"); };');
    writeFileSync(join(dir, 'bad-route.js'), 'exports.initialize = (api) => api.addRoute({ path: "/x" });');
    writeFileSync(join(dir, 'async-fails.js'), 'exports.initialize = async () => { throw new Error("later boom"); };');
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.js'), /could not be loaded: not found/],
      [join(dir, 'no-init.js'), /must export a function initialize\(api\)/],
      [join(dir, 'throws.js'), /initialize\(\) failed: boom/],
      [join(dir, 'bad-route.js'), /addRoute needs/],
      [join(dir, 'async-fails.js'), /initialize\(\) failed: later boom/],
    ];
    for (const [path, message] of cases) {
      const started = startSimulator({ EXTENSION_PATH: path });
      await expect(started).rejects.toThrow(ExtensionError);
      await expect(started).rejects.toThrow(message);
    }
    // The standalone server says it and exits 1.
    const run = spawnSync(process.execPath, [SERVER_SCRIPT], {
      env: { ...process.env, SIMULATOR_API_KEY: 'k', PORT: '0', EXTENSION_PATH: join(dir, 'no-init.js') },
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Configuration error: EXTENSION_PATH .*no-init\.js must export a function initialize/);
  });
});
