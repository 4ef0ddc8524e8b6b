// Rate limits as a client sees them: through the openai SDK and raw HTTP.

import { AzureOpenAI, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, apiError, chatPath, KEY, post, sdk, startSimulator, type TestSimulator, deploymentsFile } from './helpers';

let sim: TestSimulator;
let python: TestSimulator;

beforeAll(async () => {
  const file = deploymentsFile({
    tiny: { model: 'gpt-4o', tokensPerMinute: 1000, requestsPerMinute: 6000 },
    perSecond: { model: 'gpt-4o', tokensPerMinute: 1000000, requestsPerMinute: 60 },
    other: { model: 'gpt-4o', tokensPerMinute: 1000, requestsPerMinute: 6000 },
    whisper: { model: 'whisper', requestsPerMinute: 1 },
    embed: { model: 'text-embedding-3-small', tokensPerMinute: 1000, requestsPerMinute: 6000 },
  });
  sim = await startSimulator({ OPENAI_DEPLOYMENT_CONFIG_PATH: file, UNDEFINED_DEPLOYMENT_TOKENS_PER_MINUTE: '500' });
  python = await startSimulator({ OPENAI_DEPLOYMENT_CONFIG_PATH: file, RATE_LIMIT_COST_MODEL: 'python' });
});
afterAll(async () => {
  await Promise.all([sim.close(), python.close()]);
});

const ask = (maxTokens: number) => ({ messages: [{ role: 'user' as const, content: 'Hi' }], max_tokens: maxTokens });

describe('rate limits through the openai SDK', () => {
  it('answers over-budget requests with AOAI 429 body and headers (maxRetries: 0)', async () => {
    const client = new AzureOpenAI({ endpoint: sim.url, apiKey: KEY, apiVersion: API_VERSION, deployment: 'tiny', maxRetries: 0 });
    const ok = await client.chat.completions.create({ model: 'x', ...ask(900) }).withResponse();
    expect(ok.response.headers.get('x-ratelimit-limit-tokens')).toBe('1000');
    const spent = 1000 - Number(ok.response.headers.get('x-ratelimit-remaining-tokens'));
    expect(spent).toBe(ok.data.usage!.prompt_tokens + 900);
    expect(ok.response.headers.get('x-ratelimit-limit-requests')).toBe('1000');
    expect(ok.response.headers.get('x-ratelimit-remaining-requests')).toBe('999');

    const started = Date.now();
    const error = await client.chat.completions.create({ model: 'x', ...ask(900) }).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(200);
    expect(error).toBeInstanceOf(RateLimitError);
    const headers = (error as RateLimitError).headers!;
    const seconds = Number(headers.get('retry-after'));
    const ms = Number(headers.get('retry-after-ms'));
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(Math.ceil(ms / 1000)).toBe(seconds);
    expect(headers.get('x-ratelimit-reset-tokens')).toBe(String(seconds));
    expect(headers.get('content-type')).toBe('application/json');
    expect(headers.get('apim-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((error as RateLimitError).error).toEqual({
      code: '429',
      message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${API_VERSION} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
    });
  });

  it('lets the SDK wait retry-after-ms and then succeed', async () => {
    const attempts: { at: number; status: number; retryMs: number }[] = [];
    const client = new AzureOpenAI({
      endpoint: sim.url,
      apiKey: KEY,
      apiVersion: API_VERSION,
      deployment: 'perSecond',
      maxRetries: 2,
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        attempts.push({ at: Date.now(), status: res.status, retryMs: Number(res.headers.get('retry-after-ms') ?? 0) });
        return res;
      },
    });
    // One request per second is allowed; calls until one meets a 429 (the first normally does,
    // unless the first call ended a second).
    for (let i = 0; i < 5 && !attempts.some((a) => a.status === 429); i++) {
      const res = await client.chat.completions.create({ model: 'x', ...ask(5) });
      expect(res.choices).toHaveLength(1);
    }
    const at = attempts.findIndex((a) => a.status === 429);
    expect(at).toBeGreaterThan(0);
    const [limited, retried] = [attempts[at], attempts[at + 1]];
    expect(retried.status).toBe(200);
    expect(limited.retryMs).toBeGreaterThan(0);
    expect(limited.retryMs).toBeLessThanOrEqual(1000);
    expect(retried.at - limited.at).toBeGreaterThanOrEqual(limited.retryMs - 20);
  });

  it('keeps deployments independent', async () => {
    await post(sim.url, chatPath('other'), ask(990));
    const res = await post(sim.url, `/openai/deployments/embed/embeddings?api-version=${API_VERSION}`, { input: 'hello' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-remaining-tokens')).toBe('999');
  });
});

describe('rate limits over HTTP', () => {
  it('names the call rate limit and the operation when requests run out (RPM-only models)', async () => {
    const path = `/openai/deployments/whisper/audio/translations?api-version=${API_VERSION}`;
    const form = () => {
      const f = new FormData();
      f.set('file', new Blob([Buffer.alloc(2000)]), 'a.mp3');
      return f;
    };
    expect((await fetch(sim.url + path, { method: 'POST', headers: { 'api-key': KEY }, body: form() })).status).toBe(200);
    const res = await fetch(sim.url + path, { method: 'POST', headers: { 'api-key': KEY }, body: form() });
    expect(res.status).toBe(429);
    const seconds = res.headers.get('retry-after');
    expect(res.headers.get('x-ratelimit-reset-requests')).toBe(seconds);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      new RegExp(
        `^Requests to the Translations_Create Operation under Azure OpenAI API version ${API_VERSION} have exceeded call rate limit .* Please retry after ${seconds} seconds\\.`,
      ),
    );
  });

  it('answers a request that can never fit with the long retry, not an error or a loop', async () => {
    const res = await post(sim.url, chatPath('tiny'), ask(5000));
    // max_tokens 5000 is valid for the model but over the deployment's whole minute budget.
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('86400');
    expect(res.headers.get('retry-after-ms')).toBe('86400000');
    expect(res.headers.get('x-should-retry')).toBe('false');
  });

  it('the openai SDK gives up on it at once instead of sleeping the retry time', async () => {
    const started = Date.now();
    const err = await apiError(sdk(sim.url, 'tiny', API_VERSION, 2).chat.completions.create({ model: 'tiny', ...ask(5000) }));
    expect(err.status).toBe(429);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('limits undefined deployments only when configured', async () => {
    const res = await post(sim.url, chatPath('some-new-gpt-4o'), ask(10));
    expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('500');
    const unlimited = await post(python.url, chatPath('some-new-gpt-4o'), ask(10));
    expect(unlimited.status).toBe(200);
    expect(unlimited.headers.get('x-ratelimit-limit-tokens')).toBeNull();
  });

  it('offers the Python simulator cost model: max_tokens or 16, embeddings characters / 4', async () => {
    const chat = await post(python.url, chatPath('tiny'), { messages: [{ role: 'user', content: 'a longer prompt that has tokens' }], max_tokens: 50 });
    expect(chat.headers.get('x-ratelimit-remaining-tokens')).toBe('950');
    const noMax = await post(python.url, chatPath('other'), { messages: [{ role: 'user', content: 'Hi' }] });
    expect(noMax.headers.get('x-ratelimit-remaining-tokens')).toBe('984');
    const embed = await post(python.url, `/openai/deployments/embed/embeddings?api-version=${API_VERSION}`, { input: ['12345678', 'abc'] });
    expect(embed.headers.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - 2 - 1));
  });
});
