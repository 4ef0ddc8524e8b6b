// Metrics after a known sequence of requests, read as Prometheus text from GET /++/metrics:
// the Python simulator's names and attributes, with values that follow from the answers.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatPath, deploymentsFile, KEY, post, sdk, startSimulator, type TestSimulator } from './helpers';

/** The value of one Prometheus sample, found by metric name and labels (any order); 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return 0;
}

describe('metrics', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      RATE_LIMIT_ONE_SECOND_WINDOW: 'false',
      OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({
        'metrics-chat': { model: 'gpt-4o', tokensPerMinute: 100000, requestsPerMinute: 12 },
        'metrics-embed': { model: 'text-embedding-3-small' },
      }),
    });
  });
  afterAll(() => sim.close());

  it('need the simulator key', async () => {
    expect((await fetch(`${sim.url}/++/metrics`)).status).toBe(401);
  });

  it('count tokens, limits and latencies of a known sequence', async () => {
    // Two chat answers (the 10 s window holds 2), then a 429; one embedding. Start early in a
    // 10 s window so all three fall in the same one.
    const into = Date.now() % 10000;
    if (into > 7000) await new Promise((r) => setTimeout(r, 10050 - into));
    const client = sdk(sim.url, 'metrics-chat');
    const answers = [];
    for (const content of ['first question', 'second, longer question here']) {
      answers.push(await client.chat.completions.create({ model: 'metrics-chat', messages: [{ role: 'user', content }], max_tokens: 7 }));
    }
    const limited = await post(sim.url, chatPath('metrics-chat'), { messages: [{ role: 'user', content: 'third' }], max_tokens: 7 });
    expect(limited.status).toBe(429);
    const embedding = await sdk(sim.url, 'metrics-embed').embeddings.create({ model: 'x', input: 'embed me' });

    const text = await (await fetch(`${sim.url}/++/metrics`, { headers: { 'api-key': KEY } })).text();
    const chat = { deployment: 'metrics-chat' };
    const prompt = answers.reduce((sum, a) => sum + a.usage!.prompt_tokens, 0);
    const completion = answers.reduce((sum, a) => sum + a.usage!.completion_tokens, 0);
    expect(sample(text, 'aoai_api_simulator_tokens_used_count', { ...chat, token_type: 'prompt' })).toBe(2);
    expect(sample(text, 'aoai_api_simulator_tokens_used_sum', { ...chat, token_type: 'prompt' })).toBe(prompt);
    expect(sample(text, 'aoai_api_simulator_tokens_used_sum', { ...chat, token_type: 'completion' })).toBe(completion);
    // Admission charged prompt + max_tokens for each admitted request.
    expect(sample(text, 'aoai_api_simulator_tokens_rate_limit_sum', chat)).toBe(prompt + 2 * 7);
    expect(sample(text, 'aoai_api_simulator_limits_count', { ...chat, reason: 'requests' })).toBe(1);
    expect(sample(text, 'aoai_api_simulator_latency_full_count', { ...chat, status_code: '200' })).toBe(2);
    expect(sample(text, 'aoai_api_simulator_latency_full_count', { ...chat, status_code: '429' })).toBe(1);
    expect(sample(text, 'aoai_api_simulator_latency_base_count', { ...chat, status_code: '200' })).toBe(2);
    expect(sample(text, 'aoai_api_simulator_tokens_used_sum', { deployment: 'metrics-embed', token_type: 'prompt' })).toBe(embedding.usage.prompt_tokens);
  });

  it('latency.full includes the simulated latency; latency.base does not', async () => {
    const slow = await startSimulator({
      SIMULATOR_LATENCY: 'on',
      LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '40',
      LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0',
      OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({ 'metrics-slow': { model: 'gpt-4o' } }),
    });
    try {
      await (await post(slow.url, chatPath('metrics-slow'), { messages: [{ role: 'user', content: 'warm' }], max_tokens: 1 })).text();
      await (await post(slow.url, chatPath('metrics-slow'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 10, stream: true })).text();
      const text = await (await fetch(`${slow.url}/++/metrics`, { headers: { 'api-key': KEY } })).text();
      const labels = { deployment: 'metrics-slow', status_code: '200' };
      expect(sample(text, 'aoai_api_simulator_latency_full_count', labels)).toBe(2);
      const full = sample(text, 'aoai_api_simulator_latency_full_sum', labels);
      const base = sample(text, 'aoai_api_simulator_latency_base_sum', labels);
      // 10 tokens at 40 ms (plus 1 for the warm-up) is at least 0.44 s of simulated latency.
      expect(full - base).toBeGreaterThan(0.44 * 0.95);
    } finally {
      await slow.close();
    }
  });
});

describe('Application Insights export', () => {
  it('sends the metrics to the ingestion endpoint named by APPLICATIONINSIGHTS_CONNECTION_STRING', async () => {
    const { createServer } = await import('node:https');
    const { readFileSync } = await import('node:fs');
    const { startSimulatorProcess } = await import('../loadtest/processes');
    const tls = join(__dirname, 'fixtures', 'tls');
    const received: string[] = [];
    const ingestion = createServer({ key: readFileSync(join(tls, 'key.pem')), cert: readFileSync(join(tls, 'cert.pem')) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = (await import('node:zlib')).gunzipSync(body);
        received.push(`${req.url} ${body.toString('utf8')}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => ingestion.listen(0, '127.0.0.1', resolve));
    const port = (ingestion.address() as { port: number }).port;
    const sim = await startSimulatorProcess({
      SIMULATOR_API_KEY: KEY,
      SIMULATOR_LATENCY: 'off',
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:${port}/`,
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      NODE_TLS_REJECT_UNAUTHORIZED: '0',
      // No calls home from the exporter's own statistics.
      APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
      OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({ 'exported-chat': { model: 'gpt-4o' } }),
    });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await post(sim.url, chatPath('exported-chat'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })).status).toBe(200);
      }
      const deadline = Date.now() + 10000;
      while (!received.some((r) => r.includes('aoai-api-simulator.tokens.used')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const metric = received.find((r) => r.includes('aoai-api-simulator.tokens.used'))!;
      expect(metric).toMatch(/^\/v2\.1\/track /);
      const items = metric
        .slice(metric.indexOf(' ') + 1)
        .trim()
        .split('\n')
        .flatMap((line) => JSON.parse(line));
      const completion = items.find(
        (i: any) => i.data?.baseData?.metrics?.[0]?.name === 'aoai-api-simulator.tokens.used' && i.data.baseData.properties?.token_type === 'completion',
      );
      expect(completion.data.baseData.properties.deployment).toBe('exported-chat');
      expect(completion.data.baseData.metrics[0]).toMatchObject({ count: 3, value: 12 });
    } finally {
      await sim.stop();
      ingestion.close();
    }
  }, 30_000);
});
