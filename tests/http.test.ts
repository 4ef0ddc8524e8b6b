// Raw HTTP: exact statuses, bodies and headers for errors, the wire format of streams, and the
// request features a client can't see through the SDK.

import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, chatPath, KEY, post, sseData, startSimulator, wav, type TestSimulator } from './helpers';

let sim: TestSimulator;
let strict: TestSimulator;
const hello = { messages: [{ role: 'user', content: 'Hello' }] };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aoai-sim-'));
  const deployments = join(dir, 'deployments.json');
  writeFileSync(
    deployments,
    JSON.stringify({
      chat: { model: 'gpt-4o', tokensPerMinute: 1000000 },
      legacy: { model: 'gpt-3.5-turbo-0613', tokensPerMinute: 1000 },
      embed: { model: 'text-embedding-ada-002', tokensPerMinute: 1000000, embeddingSize: 768 },
      reasoner: { model: 'o4-mini', tokensPerMinute: 1000000 },
      whisper: { model: 'whisper', requestsPerMinute: 10 },
    }),
  );
  sim = await startSimulator();
  strict = await startSimulator({ OPENAI_DEPLOYMENT_CONFIG_PATH: deployments, ALLOW_UNDEFINED_OPENAI_DEPLOYMENTS: 'false' });
});
afterAll(async () => {
  await Promise.all([sim.close(), strict.close()]);
});

async function expectError(res: Response, status: number, body: unknown) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.headers.get('apim-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  expect(await res.json()).toEqual(body);
}

const openAIError = (message: unknown, param: unknown, code: unknown) => ({ error: { message, type: 'invalid_request_error', param, code } });

describe('routing, api-version and auth', () => {
  it('serves the health check without a key', async () => {
    const res = await fetch(sim.url + '/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('aoai-api-simulator is running');
  });

  it('answers a missing or malformed api-version with AOAI 404', async () => {
    const notFound = { error: { code: '404', message: 'Resource not found' } };
    await expectError(await post(sim.url, '/openai/deployments/gpt-4o/chat/completions', hello), 404, notFound);
    await expectError(await post(sim.url, '/openai/deployments/gpt-4o/chat/completions?api-version=yesterday', hello), 404, notFound);
    expect((await post(sim.url, chatPath('gpt-4o', '2025-04-01-preview'), hello)).status).toBe(200);
  });

  it('answers a wrong or missing key with AOAI 401, and accepts a bearer key', async () => {
    const denied = {
      error: {
        code: '401',
        message:
          'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      },
    };
    await expectError(await post(sim.url, chatPath('gpt-4o'), hello, { 'api-key': 'wrong' }), 401, denied);
    const noKey = await fetch(sim.url + chatPath('gpt-4o'), { method: 'POST', body: JSON.stringify(hello) });
    await expectError(noKey, 401, denied);
    const bearer = await fetch(sim.url + chatPath('gpt-4o'), {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(hello),
    });
    expect(bearer.status).toBe(200);
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    await expectError(await post(sim.url, '/openai/deployments/gpt-4o/nothing?api-version=2024-10-21', hello), 404, {
      error: { code: '404', message: 'Resource not found' },
    });
    const get = await fetch(sim.url + chatPath('gpt-4o'), { headers: { 'api-key': KEY } });
    await expectError(get, 405, { error: { code: '405', message: 'Method Not Allowed' } });
  });

  it('tolerates a doubled slash after the endpoint', async () => {
    expect((await post(sim.url, '/' + chatPath('gpt-4o'), hello)).status).toBe(200);
  });

  it('answers an undefined deployment with DeploymentNotFound when undefined deployments are off', async () => {
    await expectError(await post(strict.url, chatPath('nope'), hello), 404, {
      error: {
        code: 'DeploymentNotFound',
        message:
          'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      },
    });
    expect((await post(strict.url, chatPath('chat'), hello)).status).toBe(200);
  });

  it('answers an operation the model cannot do with OperationNotSupported', async () => {
    await expectError(await post(strict.url, chatPath('embed'), hello), 400, {
      error: {
        code: 'OperationNotSupported',
        message:
          'The chatCompletion operation does not work with the specified model, text-embedding-ada-002. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.',
      },
    });
    const res = await post(strict.url, `/openai/deployments/chat/embeddings?api-version=${API_VERSION}`, { input: 'x' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^The embeddings operation does not work with the specified model, gpt-4o\./,
    );
  });
});

describe('bad input', () => {
  it('rejects malformed JSON, wrong types and missing fields with the parameter named', async () => {
    const malformed = await post(sim.url, chatPath('gpt-4o'), '{"messages": [');
    expect(malformed.status).toBe(400);
    const body = (await malformed.json()) as { error: Record<string, unknown> };
    expect(body.error.type).toBe('invalid_request_error');
    expect(String(body.error.message)).toMatch(/could not parse the JSON body/);

    await expectError(
      await post(sim.url, chatPath('gpt-4o'), {}),
      400,
      openAIError("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter'),
    );
    await expectError(
      await post(sim.url, chatPath('gpt-4o'), { ...hello, n: '2' }),
      400,
      openAIError("Invalid type for 'n': expected an integer, but got a string instead.", 'n', 'invalid_type'),
    );
    await expectError(
      await post(sim.url, chatPath('gpt-4o'), { messages: 'hi' }),
      400,
      openAIError("Invalid type for 'messages': expected an array, but got a string instead.", 'messages', 'invalid_type'),
    );
    await expectError(
      await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'robot', content: 'x' }] }),
      400,
      openAIError(
        "Invalid value: 'robot'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool', 'function'.",
        'messages[0].role',
        'invalid_value',
      ),
    );
    await expectError(
      await post(sim.url, `/openai/deployments/text-embedding-3-small/embeddings?api-version=${API_VERSION}`, {}),
      400,
      openAIError("Missing required parameter: 'input'.", 'input', 'missing_required_parameter'),
    );
    await expectError(
      await post(sim.url, `/openai/deployments/gpt-35-turbo-instruct/completions?api-version=${API_VERSION}`, {}),
      400,
      openAIError("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter'),
    );
    await expectError(
      await post(sim.url, `/openai/deployments/dall-e-3/images/generations?api-version=${API_VERSION}`, { prompt: 'x', n: 2 }),
      400,
      openAIError('You must provide n=1 for this model.', 'n', 'invalid_value'),
    );
  });

  it('answers a body that is not a JSON object', async () => {
    const res = await post(sim.url, chatPath('gpt-4o'), '[1,2]');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_type');
  });

  it('requires a file for audio, and answers empty or oversized audio with 413', async () => {
    const path = `/openai/deployments/whisper/audio/transcriptions?api-version=${API_VERSION}`;
    const form = new FormData();
    form.set('model', 'whisper');
    const missing = await fetch(sim.url + path, { method: 'POST', headers: { 'api-key': KEY }, body: form });
    await expectError(missing, 400, openAIError("Missing required parameter: 'file'.", 'file', 'missing_required_parameter'));

    const empty = new FormData();
    empty.set('file', new Blob([]), 'empty.wav');
    const emptyRes = await fetch(sim.url + path, { method: 'POST', headers: { 'api-key': KEY }, body: empty });
    await expectError(emptyRes, 413, {
      error: { message: 'Maximum content size limit (26214400) exceeded (0 bytes read)', type: 'server_error', param: 'null', code: 'null' },
    });

    const big = new FormData();
    big.set('file', new Blob([Buffer.alloc(26214400 + 10)]), 'big.wav');
    const bigRes = await fetch(sim.url + path, { method: 'POST', headers: { 'api-key': KEY }, body: big });
    expect(bigRes.status).toBe(413);
    expect(((await bigRes.json()) as { error: { message: string } }).error.message).toBe(
      'Maximum content size limit (26214400) exceeded (26214410 bytes read)',
    );

    const json = await post(sim.url, path, { file: 'x' });
    expect(json.status).toBe(400);
  });

  it('refuses an oversized JSON body with 413, by Content-Length or while streaming', async () => {
    const limited = await startSimulator({ MAX_REQUEST_BODY_BYTES: '2048' });
    try {
      const big = { messages: [{ role: 'user', content: 'x'.repeat(5000) }] };
      const res = await post(limited.url, chatPath('gpt-4o'), big);
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
      const chunked = await fetch(limited.url + chatPath('gpt-4o'), {
        method: 'POST',
        headers: { 'api-key': KEY, 'content-type': 'application/json' },
        duplex: 'half',
        body: new Blob([JSON.stringify(big)]).stream(),
      } as RequestInit);
      expect(chunked.status).toBe(413);
    } finally {
      await limited.close();
    }
  });

  it('rejects max_tokens and temperature on reasoning models as AOAI does', async () => {
    await expectError(
      await post(strict.url, chatPath('reasoner'), { ...hello, max_tokens: 10 }),
      400,
      openAIError(
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        'max_tokens',
        'unsupported_parameter',
      ),
    );
    const temp = await post(strict.url, chatPath('reasoner'), { ...hello, temperature: 0.7 });
    expect(temp.status).toBe(400);
    expect(((await temp.json()) as { error: { code: string } }).error.code).toBe('unsupported_value');
    expect((await post(strict.url, chatPath('reasoner'), { ...hello, max_completion_tokens: 10 })).status).toBe(200);
  });

  it('rejects a request over the context window, and max_tokens over the model output limit', async () => {
    const long = { messages: [{ role: 'user', content: 'word '.repeat(3000) }], max_tokens: 2000 };
    const res = await post(strict.url, chatPath('legacy'), { ...long });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error' });
    const over = await post(strict.url, chatPath('chat'), { ...hello, max_tokens: 20000 });
    expect(over.status).toBe(400);
    expect(((await over.json()) as { error: { param: string } }).error.param).toBe('max_tokens');
  });

  it('rejects json_object without the word json in the messages', async () => {
    const res = await post(sim.url, chatPath('gpt-4o'), { ...hello, response_format: { type: 'json_object' } });
    expect(res.status).toBe(400);
    const ok = await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'Answer in JSON' }], response_format: { type: 'json_object' } });
    const content = ((await ok.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content;
    expect(typeof JSON.parse(content)).toBe('object');
  });
});

describe('response headers', () => {
  it('carries distinct request ids, region, deployment name and the echoed client request id', async () => {
    const res = await post(sim.url, chatPath('gpt-4o'), hello, { 'x-ms-client-request-id': 'my-trace-1' });
    const apim = res.headers.get('apim-request-id');
    const xreq = res.headers.get('x-request-id');
    expect(apim).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(xreq).toMatch(/^[0-9a-f-]{36}$/);
    expect(apim).not.toBe(xreq);
    expect(res.headers.get('x-ms-region')).toBe('East US');
    expect(res.headers.get('x-ms-deployment-name')).toBe('gpt-4o');
    expect(res.headers.get('x-ms-client-request-id')).toBe('my-trace-1');
    expect(res.headers.get('content-type')).toBe('application/json');
    const second = await post(sim.url, chatPath('gpt-4o'), hello);
    expect(second.headers.get('apim-request-id')).not.toBe(apim);
  });
});

describe('chat response content', () => {
  it('lists the top-level keys in AOAI order with model version, filters and usage details', async () => {
    const res = await post(sim.url, chatPath('gpt-4o'), { ...hello, max_tokens: 4 });
    const body = (await res.json()) as Record<string, any>;
    expect(Object.keys(body)).toEqual(['choices', 'created', 'id', 'model', 'object', 'prompt_filter_results', 'system_fingerprint', 'usage']);
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(5);
    expect(body.choices[0].message).toEqual({ annotations: [], content: expect.any(String), refusal: null, role: 'assistant' });
    expect(Object.keys(body.choices[0].content_filter_results)).toEqual([
      'hate',
      'protected_material_code',
      'protected_material_text',
      'self_harm',
      'sexual',
      'violence',
    ]);
    expect(body.prompt_filter_results[0].content_filter_results.jailbreak).toEqual({ filtered: false, detected: false });
    expect(Object.keys(body.usage.completion_tokens_details)).toEqual([
      'accepted_prediction_tokens',
      'audio_tokens',
      'reasoning_tokens',
      'rejected_prediction_tokens',
    ]);
    expect(Object.keys(body.usage.prompt_tokens_details)).toEqual(['audio_tokens', 'cached_tokens']);
  });

  it('is the same for the same seed, and different without one', async () => {
    const req = { messages: [{ role: 'user', content: 'Tell me something' }], seed: 42, max_tokens: 30 };
    const a = (await (await post(sim.url, chatPath('gpt-4o'), req)).json()) as any;
    const b = (await (await post(sim.url, chatPath('gpt-4o'), req)).json()) as any;
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content);
    const { seed: _seed, ...unseeded } = req;
    const c = (await (await post(sim.url, chatPath('gpt-4o'), unseeded)).json()) as any;
    const d = (await (await post(sim.url, chatPath('gpt-4o'), unseeded)).json()) as any;
    expect(c.choices[0].message.content).not.toBe(d.choices[0].message.content);
  });

  it('cuts the answer before a stop sequence', async () => {
    const req = { ...hello, seed: 3, max_tokens: 60 };
    const full = ((await (await post(sim.url, chatPath('gpt-4o'), req)).json()) as any).choices[0].message.content as string;
    const stopAt = full.split(' ')[4];
    const cut = ((await (await post(sim.url, chatPath('gpt-4o'), { ...req, stop: [' ' + stopAt] })).json()) as any).choices[0];
    expect(cut.finish_reason).toBe('stop');
    expect(full.startsWith(cut.message.content)).toBe(true);
    expect(cut.message.content).not.toContain(' ' + stopAt);
  });

  it('returns logprobs with top alternatives', async () => {
    const body = (await (await post(sim.url, chatPath('gpt-4o'), { ...hello, max_tokens: 5, logprobs: true, top_logprobs: 2 })).json()) as any;
    const content = body.choices[0].logprobs.content;
    expect(content).toHaveLength(5);
    for (const entry of content) {
      expect(entry).toMatchObject({ token: expect.any(String), logprob: expect.any(Number), bytes: expect.any(Array) });
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.logprob).toBeLessThanOrEqual(0);
    }
    expect(content.map((e: any) => e.token).join('')).toBe(body.choices[0].message.content);
  });

  it('answers in text once a tool result is in (tool_choice auto)', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];
    const first = (await (await post(sim.url, chatPath('gpt-4o'), { ...hello, tools })).json()) as any;
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    const call = first.choices[0].message.tool_calls[0];
    const messages = [...hello.messages, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"a":1}' }];
    const second = (await (await post(sim.url, chatPath('gpt-4o'), { messages, tools })).json()) as any;
    expect(second.choices[0].finish_reason).toBe('stop');
    expect(typeof second.choices[0].message.content).toBe('string');
  });
});

describe('chat stream wire format', () => {
  const stream = (extra: Record<string, unknown>) => post(sim.url, chatPath('gpt-4o'), { ...hello, stream: true, ...extra });

  it('sends AOAI sequence: filter event, role, one chunk per token, finish, [DONE]', async () => {
    const res = await stream({ max_tokens: 6 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const raw = await res.clone().text();
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    const data = await sseData(res);
    expect(data.at(-1)).toBe('[DONE]');
    const events = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(data).toHaveLength(6 + 4);
    expect(events[0]).toMatchObject({ choices: [], created: 0, id: '', model: '', object: '' });
    expect(events[0].prompt_filter_results[0].prompt_index).toBe(0);
    expect(events[1].choices[0]).toEqual({
      content_filter_results: {},
      delta: { content: '', refusal: null, role: 'assistant' },
      finish_reason: null,
      index: 0,
      logprobs: null,
    });
    expect(events[1].object).toBe('chat.completion.chunk');
    const body = events.slice(1);
    for (const key of ['id', 'created', 'model', 'system_fingerprint']) expect(new Set(body.map((e) => e[key])).size).toBe(1);
    const finishes = body.filter((e) => e.choices[0].finish_reason !== null);
    expect(finishes).toHaveLength(1);
    expect(finishes[0].choices[0]).toMatchObject({ delta: {}, content_filter_results: {}, finish_reason: 'length' });
    for (const e of body) expect('usage' in e).toBe(false);
  });

  it('streams a long answer (past the single-write size) chunk by chunk, complete', async () => {
    const res = await stream({ max_tokens: 2000, seed: 11, stream_options: { include_usage: true } });
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const data = await sseData(res);
    expect(data).toHaveLength(2000 + 5);
    expect(data.at(-1)).toBe('[DONE]');
    const events = data.slice(0, -1).map((d) => JSON.parse(d));
    const content = events
      .slice(2, -2)
      .map((e) => e.choices[0].delta.content)
      .join('');
    const plain = (await (await post(sim.url, chatPath('gpt-4o'), { ...hello, max_tokens: 2000, seed: 11 })).json()) as any;
    expect(content).toBe(plain.choices[0].message.content);
    expect(events.at(-1).usage.completion_tokens).toBe(2000);
  });

  it('adds usage: null to every chunk and a final usage chunk with include_usage', async () => {
    const data = await sseData(await stream({ max_tokens: 4, stream_options: { include_usage: true } }));
    const events = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(data).toHaveLength(4 + 5);
    for (const e of events.slice(1, -1)) expect(e.usage).toBeNull();
    const last = events.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 4, total_tokens: last.usage.prompt_tokens + 4 });
  });

  it('interleaves n choices, each with its own finish chunk', async () => {
    const data = await sseData(await stream({ max_tokens: 3, n: 2 }));
    const events = data.slice(1, -1).map((d) => JSON.parse(d));
    const indexes = events.map((e) => e.choices[0].index);
    expect(indexes.filter((i) => i === 0)).toHaveLength(1 + 3 + 1);
    expect(indexes.filter((i) => i === 1)).toHaveLength(1 + 3 + 1);
    expect(events.filter((e) => e.choices[0].finish_reason).map((e) => e.choices[0].index)).toEqual([0, 1]);
    const contentIndexes = events.filter((e) => e.choices[0].delta.content && !e.choices[0].delta.role).map((e) => e.choices[0].index);
    expect(contentIndexes.slice(0, 4)).toEqual([0, 1, 0, 1]);
  });

  it('streams tool calls: id, name and empty arguments first, then fragments', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } }];
    const data = await sseData(await stream({ tools, tool_choice: 'required' }));
    const deltas = data.slice(1, -1).map((d) => JSON.parse(d).choices[0]);
    const toolDeltas = deltas.filter((c) => c.delta.tool_calls);
    expect(toolDeltas[0].delta.tool_calls[0]).toEqual({
      function: { arguments: '', name: 'lookup' },
      id: expect.stringMatching(/^call_/),
      index: 0,
      type: 'function',
    });
    for (const d of toolDeltas.slice(1)) expect(Object.keys(d.delta.tool_calls[0]).sort()).toEqual(['function', 'index']);
    expect(JSON.parse(toolDeltas.map((d) => d.delta.tool_calls[0].function.arguments).join(''))).toHaveProperty('q');
    expect(deltas.at(-1).finish_reason).toBe('tool_calls');
  });

  it('streams legacy completions in the same envelope', async () => {
    const res = await post(sim.url, `/openai/deployments/gpt-35-turbo-instruct/completions?api-version=${API_VERSION}`, {
      prompt: 'Hi',
      max_tokens: 3,
      stream: true,
    });
    const data = await sseData(res);
    expect(data).toHaveLength(3 + 3);
    const events = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(events[0].choices).toEqual([]);
    expect(events[1]).toMatchObject({ object: 'text_completion', choices: [{ index: 0, finish_reason: null }] });
    expect(events.at(-1).choices[0].finish_reason).toBe('length');
  });
});

describe('embeddings and audio specifics', () => {
  it('uses the configured embeddingSize, and 400s dimensions on ada-002', async () => {
    const res = await post(strict.url, `/openai/deployments/embed/embeddings?api-version=${API_VERSION}`, { input: 'x' });
    const body = (await res.json()) as any;
    expect(body.data[0].embedding).toHaveLength(768);
    expect(body.model).toBe('text-embedding-ada-002');
    const dims = await post(strict.url, `/openai/deployments/embed/embeddings?api-version=${API_VERSION}`, { input: 'x', dimensions: 10 });
    expect(dims.status).toBe(400);
    expect(((await dims.json()) as any).error.param).toBe('dimensions');
  });

  it('encodes base64 embeddings as little-endian float32 and counts token-array inputs', async () => {
    const res = await post(sim.url, `/openai/deployments/text-embedding-3-small/embeddings?api-version=${API_VERSION}`, {
      input: [
        [1, 2, 3],
        [4, 5],
      ],
      encoding_format: 'base64',
    });
    const body = (await res.json()) as any;
    const bytes = Buffer.from(body.data[0].embedding, 'base64');
    expect(bytes.length).toBe(4 * 1536);
    let norm = 0;
    for (let i = 0; i < 1536; i++) norm += bytes.readFloatLE(i * 4) ** 2;
    expect(Math.sqrt(norm)).toBeCloseTo(1, 4);
    expect(body.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
  });

  it('defaults audio to json', async () => {
    const form = new FormData();
    form.set('file', new Blob([wav(1)]), 'a.wav');
    const res = await fetch(sim.url + `/openai/deployments/whisper/audio/transcriptions?api-version=${API_VERSION}`, {
      method: 'POST',
      headers: { 'api-key': KEY },
      body: form,
    });
    expect(res.status).toBe(200);
    expect(Object.keys((await res.json()) as object)).toEqual(['text']);
  });
});
