// The official openai npm client (AzureOpenAI), unchanged, against the standalone server.

import Ajv from 'ajv';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdk, startSimulator, wav, type TestSimulator } from './helpers';

let sim: TestSimulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

const ajv = new Ajv({ strict: false });
const weatherSchema = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
  },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
};

describe('chat completions', () => {
  it('answers a plain request with AOAI fields and honest usage', async () => {
    const res = await sdk(sim.url, 'gpt-4o').chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Say hello' }],
      max_tokens: 12,
    });
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(res.model).toBe('gpt-4o-2024-08-06');
    expect(res.choices[0].finish_reason).toBe('length');
    expect(res.choices[0].message.content!.length).toBeGreaterThan(10);
    expect(res.usage!.completion_tokens).toBe(12);
    expect(res.usage!.prompt_tokens).toBe(9);
    expect(res.usage!.total_tokens).toBe(21);
    expect((res as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results).toHaveLength(1);
    expect(res.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
  });

  it('answers without max_tokens with a finished sentence', async () => {
    const res = await sdk(sim.url, 'gpt-4o-mini').chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.choices[0].message.content).toMatch(/\.$/);
  });

  it('returns n choices with usage summed over them', async () => {
    const res = await sdk(sim.url, 'gpt-4o').chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Hi' }],
      n: 2,
      max_completion_tokens: 7,
    });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(res.usage!.completion_tokens).toBe(14);
  });

  it('produces JSON valid against a json_schema', async () => {
    const res = await sdk(sim.url, 'gpt-4.1').chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Weather plan' }],
      response_format: { type: 'json_schema', json_schema: { name: 'plan', strict: true, schema: weatherSchema } },
    });
    const content = JSON.parse(res.choices[0].message.content!);
    expect(ajv.validate(weatherSchema, content), JSON.stringify(ajv.errors)).toBe(true);
    expect(res.choices[0].finish_reason).toBe('stop');
  });

  it('calls a tool with arguments valid against its parameters', async () => {
    const res = await sdk(sim.url, 'gpt-4o').chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Forecast', parameters: weatherSchema } }],
      tool_choice: 'required',
    });
    const choice = res.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0];
    expect(call.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(call.type).toBe('function');
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(ajv.validate(weatherSchema, JSON.parse(call.function.arguments)), JSON.stringify(ajv.errors)).toBe(true);
  });

  it('streams through the SDK: one id, role, content, finish, usage', async () => {
    const stream = await sdk(sim.url, 'gpt-4o').chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Stream please' }],
      max_tokens: 20,
      stream: true,
      stream_options: { include_usage: true },
      seed: 7,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    // The SDK yields Azure's prompt-filter event too (empty id and choices).
    expect(chunks[0].choices).toEqual([]);
    const body = chunks.slice(1);
    expect(new Set(body.map((c) => c.id)).size).toBe(1);
    expect(body[0].choices[0].delta.role).toBe('assistant');
    const content = body.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
    const finish = body.filter((c) => c.choices[0]?.finish_reason);
    expect(finish).toHaveLength(1);
    expect(finish[0].choices[0].finish_reason).toBe('length');
    const usage = body.at(-1)!.usage!;
    expect(usage.completion_tokens).toBe(20);
    // Same seed, not streamed: the same text.
    const plain = await sdk(sim.url, 'gpt-4o').chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Stream please' }],
      max_tokens: 20,
      seed: 7,
    });
    expect(plain.choices[0].message.content).toBe(content);
  });

  it('streams tool calls through the SDK as index-tagged argument fragments', async () => {
    const stream = await sdk(sim.url, 'gpt-4o').chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Weather?' }],
      stream: true,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: weatherSchema } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        for (const call of choice.delta.tool_calls ?? []) {
          expect(call.index).toBe(0);
          args += call.function?.arguments ?? '';
        }
        finish = choice.finish_reason ?? finish;
      }
    }
    expect(finish).toBe('tool_calls');
    expect(ajv.validate(weatherSchema, JSON.parse(args))).toBe(true);
  });
});

describe('completions (legacy)', () => {
  it('answers and streams', async () => {
    const client = sdk(sim.url, 'gpt-35-turbo-instruct');
    const res = await client.completions.create({ model: 'x', prompt: 'Once upon a time', max_tokens: 9 });
    expect(res.object).toBe('text_completion');
    expect(res.id).toMatch(/^cmpl-/);
    expect(res.usage!.completion_tokens).toBe(9);
    expect(res.choices[0].text.length).toBeGreaterThan(5);
    const stream = await client.completions.create({ model: 'x', prompt: 'Once', max_tokens: 5, stream: true });
    let text = '';
    let finish = '';
    for await (const chunk of stream)
      for (const c of chunk.choices) {
        text += c.text;
        finish = c.finish_reason ?? finish;
      }
    expect(finish).toBe('length');
    expect(text.length).toBeGreaterThan(3);
  });
});

describe('embeddings', () => {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

  it('decodes the SDK default (base64) into unit float vectors of the model size', async () => {
    const res = await sdk(sim.url, 'text-embedding-ada-002').embeddings.create({ model: 'x', input: ['first', 'second'] });
    expect(res.data.map((d) => d.index)).toEqual([0, 1]);
    for (const d of res.data) {
      expect(d.embedding).toHaveLength(1536);
      expect(norm(d.embedding)).toBeCloseTo(1, 5);
    }
    expect(res.usage.prompt_tokens).toBe(2);
    expect(res.usage.total_tokens).toBe(2);
    const again = await sdk(sim.url, 'text-embedding-ada-002').embeddings.create({ model: 'x', input: 'first', encoding_format: 'float' });
    expect(again.data[0].embedding).toEqual(res.data[0].embedding);
  });

  it('honours dimensions on text-embedding-3 models', async () => {
    const res = await sdk(sim.url, 'text-embedding-3-large').embeddings.create({ model: 'x', input: 'hello', dimensions: 256 });
    expect(res.data[0].embedding).toHaveLength(256);
    expect(norm(res.data[0].embedding)).toBeCloseTo(1, 5);
    const full = await sdk(sim.url, 'text-embedding-3-large').embeddings.create({ model: 'x', input: 'hello' });
    expect(full.data[0].embedding).toHaveLength(3072);
  });
});

describe('audio', () => {
  it('transcribes and translates a WAV in every response format', async () => {
    const client = sdk(sim.url, 'my-whisper');
    const file = await toFile(wav(4), 'tone.wav', { type: 'audio/wav' });
    const json = await client.audio.transcriptions.create({ model: 'whisper', file });
    expect(json.text.length).toBeGreaterThan(5);
    const verbose = await client.audio.transcriptions.create({
      model: 'whisper',
      file: await toFile(wav(4), 'tone.wav'),
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });
    expect(verbose.duration).toBeCloseTo(4, 1);
    expect(verbose.segments!.at(-1)!.end).toBeCloseTo(4, 1);
    expect(verbose.words!.length).toBeGreaterThan(3);
    const srt = await client.audio.transcriptions.create({ model: 'whisper', file: await toFile(wav(2), 'a.wav'), response_format: 'srt' });
    expect(srt).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\n/);
    const vtt = await client.audio.transcriptions.create({ model: 'whisper', file: await toFile(wav(2), 'a.wav'), response_format: 'vtt' });
    expect(vtt).toMatch(/^WEBVTT\n\n00:00:00\.000 --> /);
    const text = await client.audio.translations.create({ model: 'whisper', file: await toFile(wav(2), 'a.wav'), response_format: 'text' });
    expect(typeof text).toBe('string');
    expect(text).not.toContain('"text"');
    const translated = await client.audio.translations.create({ model: 'whisper', file: await toFile(wav(2), 'a.wav'), response_format: 'verbose_json' });
    expect(translated.language).toBe('english');
  });
});

describe('images', () => {
  const pngSize = (bytes: Buffer) => {
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  };

  it('returns a URL served by the simulator that is a PNG of the requested size', async () => {
    const res = await sdk(sim.url, 'dall-e-3').images.generate({ model: 'dall-e-3', prompt: 'A lighthouse', size: '1792x1024', response_format: 'url' });
    expect(res.created).toBeGreaterThan(0);
    expect(res.data![0].revised_prompt).toContain('lighthouse');
    const image = await fetch(res.data![0].url!);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(pngSize(Buffer.from(await image.arrayBuffer()))).toEqual([1792, 1024]);
  });

  it('returns b64_json', async () => {
    const res = await sdk(sim.url, 'dall-e-3').images.generate({ model: 'dall-e-3', prompt: 'A cat', response_format: 'b64_json' });
    expect(pngSize(Buffer.from(res.data![0].b64_json!, 'base64'))).toEqual([1024, 1024]);
  });
});
