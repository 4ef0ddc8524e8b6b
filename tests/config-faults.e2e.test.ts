// GET/PATCH /++/config (validation, effect, no reset of windows or unsaved recordings, two
// instances sharing Azurite) and every fault mode observed through the openai client.

import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzuriteTables, type Azurite } from '../loadtest/azurite';
import { apiError, chatPath, deploymentsFile, KEY, post, sdk, startSimulator, type TestSimulator } from './helpers';
import { startUpstream } from './upstream';

const getConfig = async (url: string, key = KEY) => fetch(`${url}/++/config`, { headers: { 'api-key': key } });
const patchConfig = (url: string, body: unknown) =>
  fetch(`${url}/++/config`, {
    method: 'PATCH',
    headers: { 'api-key': KEY, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const chat = (url: string, deployment: string, extra: object = {}) =>
  post(url, chatPath(deployment), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, ...extra });

describe('/++/config', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      ALLOW_UNDEFINED_OPENAI_DEPLOYMENTS: 'false',
      OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({ small: { model: 'gpt-4o', tokensPerMinute: 1000, requestsPerMinute: 6 } }),
    });
  });
  afterAll(() => sim.close());

  it("needs the simulator key and shows the Python simulator's shape", async () => {
    expect((await getConfig(sim.url, 'wrong')).status).toBe(401);
    const res = await getConfig(sim.url);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.simulator_mode).toBe('generate');
    expect(body.latency.open_ai_chat_completions).toMatchObject({ mean: 19, std_dev: 6 });
    expect(body.latency.open_ai_completions).toMatchObject({ mean: 15, std_dev: 2 });
    expect(body.openai_deployments.small).toMatchObject({ model: { name: 'gpt-4o' }, tokens_per_minute: 1000, requests_per_minute: 6 });
  });

  it('patches part of a latency setting and keeps the rest', async () => {
    const res = await patchConfig(sim.url, { latency: { open_ai_completions: { mean: 0.5 } } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.latency.open_ai_completions).toMatchObject({ mean: 0.5, std_dev: 2 });
    expect(body.latency.open_ai_chat_completions).toMatchObject({ mean: 19, std_dev: 6 });
    expect(body.simulator_mode).toBe('generate');
  });

  it('refuses a bad patch with 400 naming the field, and applies nothing of it', async () => {
    const before = await (await getConfig(sim.url)).json();
    const cases: [unknown, RegExp][] = [
      [{ simulator_mode: 'playback' }, /simulator_mode must be generate, record or replay/],
      [{ simulator_mode: 'record' }, /needs AZURE_OPENAI_ENDPOINT/],
      [{ latency: { open_ai_chat_completions: { mean: -1 } } }, /latency\.open_ai_chat_completions must be milliseconds/],
      [
        { latency: { open_ai_completions: { mean: 3 } }, openai_deployments: { small: { tokens_per_minute: 'lots' } } },
        /openai_deployments\.small\.tokens_per_minute must be a whole number/,
      ],
      [{ openai_deployments: { fresh: { tokens_per_minute: 10 } } }, /openai_deployments\.fresh is a new deployment: it needs a model/],
      [{ openai_deployments: { d: { model: 'gpt-99' } } }, /unknown model 'gpt-99'/],
      [{ openai_deployments: { small: { faults: { error_rate: 2 } } } }, /openai_deployments\.small\.faults\.error_rate must be a fraction/],
      [{ api_key: 'x' }, /api_key is not a setting that can be changed/],
      [[1, 2], /must be a JSON object/],
    ];
    for (const [patch, message] of cases) {
      const res = await patchConfig(sim.url, patch);
      expect(res.status, JSON.stringify(patch)).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe('InvalidConfiguration');
      expect(body.error.message).toMatch(message);
    }
    const invalid = await patchConfig(sim.url, '{"latency":');
    expect(invalid.status).toBe(400);
    expect(await (await getConfig(sim.url)).json()).toEqual(before);
  });

  it('adds, changes and removes deployments, without resetting rate-limit windows', async () => {
    expect((await chat(sim.url, 'extra')).status).toBe(404);
    const added = await patchConfig(sim.url, { openai_deployments: { extra: { model: 'gpt-4o-mini', requests_per_minute: 6, tokens_per_minute: 100000 } } });
    expect(added.status).toBe(200);
    expect((await added.json()).openai_deployments.extra.model.name).toBe('gpt-4o-mini');
    const first = await chat(sim.url, 'extra');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('1');

    // Spend 'small' (1 request per 10 s), patch something else, and it is still spent.
    await chat(sim.url, 'small');
    expect((await chat(sim.url, 'small')).status).toBe(429);
    await patchConfig(sim.url, { latency: { open_ai_embeddings: { mean: 1 } } });
    expect((await chat(sim.url, 'small')).status).toBe(429);

    // Raised limits apply at once.
    await patchConfig(sim.url, { openai_deployments: { small: { requests_per_minute: 600 } } });
    expect((await chat(sim.url, 'small')).status).toBe(200);

    await patchConfig(sim.url, { openai_deployments: { extra: null } });
    const removed = await chat(sim.url, 'extra');
    expect(removed.status).toBe(404);
    expect((await removed.json()).error.code).toBe('DeploymentNotFound');
  });
});

describe('/++/config keeps what record mode has not saved yet', () => {
  it('a patch in record mode with autosave off loses no recording', async () => {
    const upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'aoai-cfg-rec-'));
    const sim = await startSimulator({
      SIMULATOR_MODE: 'record',
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_KEY: 'k',
      RECORDING_DIR: dir,
      RECORDING_AUTOSAVE: 'false',
    });
    try {
      expect((await chat(sim.url, 'gpt-4o')).status).toBe(200);
      expect((await patchConfig(sim.url, { latency: { open_ai_chat_completions: { mean: 1 } } })).status).toBe(200);
      const saved = await post(sim.url, '/++/save-recordings', '');
      expect(await saved.json()).toMatchObject({ interactions: 1 });
      expect(readdirSync(dir)).toEqual(['openai_deployments_gpt-4o_chat_completions.yaml']);
      // Switching to replay at run time serves what was recorded.
      expect((await patchConfig(sim.url, { simulator_mode: 'replay' })).status).toBe(200);
      const replayed = await chat(sim.url, 'gpt-4o');
      expect(replayed.status).toBe(200);
      expect((await replayed.json()).choices[0].message.content).toMatch(/^upstream answer/);
    } finally {
      await sim.close();
      await upstream.close();
    }
  });
});

describe('/++/config across instances sharing storage', () => {
  let azurite: Azurite;
  beforeAll(async () => {
    azurite = await startAzuriteTables();
  });
  afterAll(() => azurite.close());

  it('a patch on one instance reaches the other within the refresh interval', async () => {
    const env = { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, CONFIG_TABLE: 'cfgshared', CONFIG_REFRESH_SECONDS: '0.5' };
    const [a, b] = await Promise.all([startSimulator(env), startSimulator(env)]);
    try {
      const patched = await patchConfig(a.url, { openai_deployments: { shared: { model: 'gpt-4o', requests_per_minute: 60 } }, faults: { sequence: [503] } });
      expect(patched.status).toBe(200);
      await new Promise((r) => setTimeout(r, 1200));
      const seen = await (await getConfig(b.url)).json();
      expect(seen.openai_deployments.shared).toMatchObject({ model: { name: 'gpt-4o' }, requests_per_minute: 60 });
      expect(seen.faults).toEqual({ sequence: [503] });
      // And it acts there: b's first request on any deployment gets the scripted 503.
      expect((await chat(b.url, 'shared')).status).toBe(503);
      expect((await chat(b.url, 'shared')).status).toBe(200);

      // Concurrent patches on both instances: both land, in some order.
      await Promise.all([
        patchConfig(a.url, { latency: { open_ai_embeddings: { mean: 11 } } }),
        patchConfig(b.url, { latency: { open_ai_images: { mean: 22 } } }),
      ]);
      await new Promise((r) => setTimeout(r, 1200));
      for (const sim of [a, b]) {
        const view = await (await getConfig(sim.url)).json();
        expect(view.latency.open_ai_embeddings.mean).toBe(11);
        expect(view.latency.open_ai_images.mean).toBe(22);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('fault injection, through the openai client', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({
        errors: { model: 'gpt-4o', faults: { errorRate: 1, errorStatuses: [503] } },
        plain: { model: 'gpt-4o' },
        ptu: { model: 'gpt-4o', faults: { ptu: { units: 1, tokensPerMinutePerUnit: 60 } } },
      }),
    });
  });
  afterAll(() => sim.close());

  const ask = (deployment: string, maxRetries = 0) =>
    sdk(sim.url, deployment, undefined, maxRetries).chat.completions.create({ model: deployment, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });

  it('server errors at a configured rate, from the deployment file', async () => {
    const err = await apiError(ask('errors'));
    expect(err.status).toBe(503);
    expect(err.message).toMatch(/overloaded/);
  });

  it('capacity 429s ("high demand") at a configured rate, set through PATCH', async () => {
    await patchConfig(sim.url, { openai_deployments: { plain: { faults: { capacity_rate: 1, capacity_retry_after_seconds: 7 } } } });
    const err = await apiError(ask('plain'));
    expect(err.status).toBe(429);
    expect(err.message).toMatch(/currently experiencing high demand.*Please retry after 7 seconds/);
    expect(err.headers?.get('retry-after')).toBe('7');
    await patchConfig(sim.url, { openai_deployments: { plain: { faults: null } } });
    expect((await ask('plain')).choices[0].finish_reason).toBeDefined();
  });

  it('a scripted sequence: the first requests fail, then success; the SDK retries through it', async () => {
    await patchConfig(sim.url, { openai_deployments: { plain: { faults: { sequence: [429, 500, 'ok'], capacity_retry_after_seconds: 1 } } } });
    const started = Date.now();
    const answer = await ask('plain', 2);
    expect(answer.choices).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThan(900); // it honoured retry-after-ms: 1000
    await patchConfig(sim.url, { openai_deployments: { plain: { faults: null } } });
  });

  it('a stream cut mid-way with an error event raises in the client', async () => {
    await patchConfig(sim.url, { openai_deployments: { plain: { faults: { cut_stream_rate: 1, cut_after_tokens: 3 } } } });
    const stream = await sdk(sim.url, 'plain').chat.completions.create({
      model: 'plain',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 20,
      stream: true,
    });
    const content: string[] = [];
    const err = await apiError(
      (async () => {
        for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) content.push(chunk.choices[0].delta.content);
      })(),
    );
    expect(content).toHaveLength(3);
    expect(err.message).toMatch(/server had an error/);
    const raw = await (await chat(sim.url, 'plain', { stream: true, max_tokens: 20 })).text();
    expect(raw).toContain('data: {"error":');
    expect(raw).not.toContain('[DONE]');
    await patchConfig(sim.url, { openai_deployments: { plain: { faults: null } } });
  });

  it('PTU: utilization header instead of x-ratelimit-*, 429 with retry-after-ms while over 100%', async () => {
    const first = await chat(sim.url, 'ptu');
    expect(first.status).toBe(200);
    expect(first.headers.get('azure-openai-deployment-utilization')).toMatch(/^\d+(\.\d)?%$/);
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBeNull();
    // 60 tokens a minute: a few requests fill it.
    let res = first;
    for (let i = 0; i < 10 && res.status === 200; i++) res = await chat(sim.url, 'ptu');
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after-ms'))).toBeGreaterThan(0);
    expect(parseFloat(res.headers.get('azure-openai-deployment-utilization')!)).toBeGreaterThanOrEqual(100);
  });

  it('strict retry-after: a client back before its retry time gets another 429', async () => {
    await patchConfig(sim.url, { openai_deployments: { plain: { faults: { sequence: [429], capacity_retry_after_seconds: 1, enforce_retry_after: true } } } });
    expect((await chat(sim.url, 'plain')).status).toBe(429);
    const early = await chat(sim.url, 'plain');
    expect(early.status).toBe(429);
    expect((await early.json()).error.message).toMatch(/retried before its retry-after had passed/);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await chat(sim.url, 'plain')).status).toBe(200);
    await patchConfig(sim.url, { openai_deployments: { plain: { faults: null } } });
  });
});
