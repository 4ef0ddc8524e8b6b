// Simulated latency measured end to end over HTTP: time to first token and inter-token delay on
// streams, totals on whole answers, per-request/per-MiB/per-image waits, the Python simulator's
// variables, deployment overrides, the PAYG-like slowdown, and 429s that wait for nothing.

import { createParser } from 'eventsource-parser';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatPath, deploymentsFile, post, sdk, startSimulator, wav, type TestSimulator } from './helpers';

/** Arrival time (ms from the request) of every SSE data event. */
async function eventTimes(url: string, path: string, body: object): Promise<{ headersAt: number; events: { at: number; data: string }[] }> {
  const start = performance.now();
  const res = await post(url, path, body);
  const headersAt = performance.now() - start;
  const events: { at: number; data: string }[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ at: performance.now() - start, data: e.data }) });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  return { headersAt, events };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Room for a busy machine (CI shares its cores): timers are never early, but may be late. */
const SLACK = 250;

describe('chat latency', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      SIMULATOR_LATENCY: 'on',
      LATENCY_OPENAI_CHAT_COMPLETIONS_TTFT_MEAN: '300',
      LATENCY_OPENAI_CHAT_COMPLETIONS_TTFT_STD_DEV: '0',
      LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '40',
      LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0',
      OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({
        gpt4o: { model: 'gpt-4o' },
        fast: { model: 'gpt-4o', latency: { ttftMs: 50, perTokenMs: { mean: 10, stdDev: 0 } } },
        // An admitted answer here takes over 2 s: a 429 that waited would show it.
        limited: { model: 'gpt-4o', tokensPerMinute: 1000, requestsPerMinute: 6, latency: { ttftMs: 2000 } },
      }),
    });
    // The first request loads the tokenizer; measure warm.
    await (await post(sim.url, chatPath('fast'), { messages: [{ role: 'user', content: 'warm up' }], max_tokens: 1 })).text();
  });
  afterAll(() => sim.close());

  it('streams: headers at once, first token after the TTFT, then one token per inter-token delay', async () => {
    const { headersAt, events } = await eventTimes(sim.url, chatPath('gpt4o'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 12, stream: true });
    // Lower bounds are exact (timers never fire early); upper bounds leave room for a busy machine.
    expect(headersAt).toBeLessThan(300);
    // Event 1 (prompt filter) and 2 (role) come with the first token.
    const content = events.filter((e) => e.data !== '[DONE]' && JSON.parse(e.data).choices[0]?.delta?.content);
    expect(content).toHaveLength(12);
    expect(events[0].at).toBeGreaterThan(300 * 0.9);
    expect(events[1].at).toBeLessThan(300 + SLACK);
    expect(content[0].at).toBeLessThan(300 + SLACK);
    // Tokens follow one a delay apart: together they span 11 delays (late ones catch up).
    const gaps = content.slice(1).map((e, i) => e.at - content[i].at);
    expect(mean(gaps)).toBeGreaterThan(40 * 0.9);
    expect(content.at(-1)!.at - content[0].at).toBeLessThan(11 * 40 + SLACK);
    // The finish chunk and [DONE] go with the last token.
    expect(events.at(-1)!.at - content.at(-1)!.at).toBeLessThan(SLACK);
  });

  it('a whole answer waits TTFT + an inter-token delay per further token', async () => {
    const start = performance.now();
    const res = await sdk(sim.url, 'gpt4o').chat.completions.create({ model: 'gpt4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });
    const took = performance.now() - start;
    expect(res.usage!.completion_tokens).toBe(10);
    const expected = 300 + 9 * 40;
    expect(took).toBeGreaterThan(expected * 0.95);
    expect(took).toBeLessThan(expected + SLACK);
  });

  it("a deployment's own latency overrides the globals", async () => {
    const { events } = await eventTimes(sim.url, chatPath('fast'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, stream: true });
    expect(events[0].at).toBeGreaterThan(45);
    // Far from the globals' 300 ms TTFT.
    expect(events[0].at).toBeLessThan(200);
    expect(events.at(-1)!.at).toBeLessThan(50 + 7 * 10 + SLACK);
  });

  it('a 429 waits for nothing', async () => {
    // Spend the 10 s window first (a first request that lands just before a window boundary
    // would leave the next one admitted).
    for (let i = 0; i < 3; i++) {
      const spent = await post(sim.url, chatPath('limited'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
      if (spent.status === 429) break;
    }
    const start = performance.now();
    const res = await post(sim.url, chatPath('limited'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
    expect(res.status).toBe(429);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("the Python simulator's variables", () => {
  it('chat: ms per completion token (no TTFT set: the first token takes one delay too)', async () => {
    const sim = await startSimulator({ SIMULATOR_LATENCY: 'on', LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '15', LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0' });
    try {
      await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'warm' }], max_tokens: 1 });
      const start = performance.now();
      await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 });
      const took = performance.now() - start;
      expect(took).toBeGreaterThan(20 * 15 * 0.95);
      expect(took).toBeLessThan(20 * 15 + SLACK);
    } finally {
      await sim.close();
    }
  });

  it('embeddings per request, audio per MiB, images per image', async () => {
    const sim = await startSimulator({
      SIMULATOR_LATENCY: 'on',
      LATENCY_OPENAI_EMBEDDINGS_MEAN: '250',
      LATENCY_OPENAI_EMBEDDINGS_STD_DEV: '0',
      LATENCY_OPENAI_TRANSLATIONS_MEAN: '1000',
      LATENCY_OPENAI_TRANSLATIONS_STD_DEV: '0',
      LATENCY_OPENAI_IMAGES_MEAN: '150',
      LATENCY_OPENAI_IMAGES_STD_DEV: '0',
    });
    const timed = async (work: () => Promise<unknown>) => {
      const start = performance.now();
      await work();
      return performance.now() - start;
    };
    try {
      await timed(() => sdk(sim.url, 'text-embedding-3-small').embeddings.create({ model: 'x', input: 'warm' }));
      const embedding = await timed(() => sdk(sim.url, 'text-embedding-3-small').embeddings.create({ model: 'x', input: 'hello' }));
      expect(embedding).toBeGreaterThan(250 * 0.95);
      expect(embedding).toBeLessThan(250 + SLACK);
      const audio = wav(16); // 512 KiB of 16 kHz 16-bit mono: half a MiB
      const file = await toFile(audio, 'a.wav', { type: 'audio/wav' });
      const translation = await timed(() => sdk(sim.url, 'whisper').audio.translations.create({ model: 'whisper', file }));
      const expected = (1000 * audio.length) / (1024 * 1024);
      expect(translation).toBeGreaterThan(expected * 0.95);
      expect(translation).toBeLessThan(expected + SLACK);
      const images = await timed(() => sdk(sim.url, 'dall-e-2').images.generate({ model: 'dall-e-2', prompt: 'a boat', n: 3, size: '256x256' }));
      expect(images).toBeGreaterThan(3 * 150 * 0.95);
      expect(images).toBeLessThan(3 * 150 + SLACK);
    } finally {
      await sim.close();
    }
  });
});

describe('PAYG-like slowdown', () => {
  it('past the configured concurrency, latency grows with load', async () => {
    const sim = await startSimulator({
      SIMULATOR_LATENCY: 'on',
      LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '20',
      LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0',
      LATENCY_SLOWDOWN_CONCURRENCY: '2',
      LATENCY_SLOWDOWN_FACTOR: '1',
    });
    try {
      const one = async () => {
        const start = performance.now();
        await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });
        return performance.now() - start;
      };
      await one(); // warm
      const alone = await one();
      const together = await Promise.all(Array.from({ length: 8 }, one));
      expect(alone).toBeLessThan(200 * 1.2 + 30);
      // The 8th concurrent request sees 8 in flight: 1 + (8 - 2) / 2 = 4 times slower.
      expect(Math.max(...together)).toBeGreaterThan(200 * 3.5);
      expect(Math.min(...together)).toBeLessThan(200 * 1.2 + 30);
    } finally {
      await sim.close();
    }
  });
});
