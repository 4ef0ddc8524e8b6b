// The v1 API and the Responses API as today's clients use them: the plain OpenAI client (openai
// v6 and v7) on the v1 base URL, AzureOpenAI on the classic prefix, and raw HTTP for each error
// and for the typed event sequence.
import OpenAI, { AzureOpenAI } from 'openai';
import OpenAI7 from 'openai7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, apiError, deploymentsFile, KEY, post, startSimulator, type TestSimulator } from './helpers';

const RESPONSES_VERSION = '2025-04-01-preview';
let sim: TestSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({
      'gpt-4o': { model: 'gpt-4o' },
      cut: { model: 'gpt-4o', faults: { cutStreamRate: 1, cutAfterTokens: 3 } },
      'o4-mini': { model: 'o4-mini' },
      'text-embedding-3-small': { model: 'text-embedding-3-small' },
      tight: { model: 'gpt-4o', tokensPerMinute: 1000, requestsPerMinute: 6 },
    }),
    ALLOW_UNDEFINED_OPENAI_DEPLOYMENTS: 'false',
  });
});
afterAll(() => sim.close());

const v1 = (Client: typeof OpenAI | typeof OpenAI7 = OpenAI) => new Client({ baseURL: `${sim.url}/openai/v1/`, apiKey: KEY, maxRetries: 0 });
const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

/** Every SSE event of a response body as [event name, parsed data]. */
async function typedEvents(response: Response): Promise<[string, any][]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(frame)?.[1] ?? '';
      return [event, data === '[DONE]' ? data : JSON.parse(data)];
    });
}

describe('the plain OpenAI client on the v1 base URL', () => {
  for (const [name, Client] of [
    ['openai v6', OpenAI],
    ['openai v7', OpenAI7],
  ] as const) {
    it(`${name}: chat, embeddings and responses with the key as a bearer token`, async () => {
      const client = v1(Client);
      const chat = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 });
      expect(chat.object).toBe('chat.completion');
      expect(chat.model).toBe('gpt-4o-2024-08-06');
      const embedding = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
      expect(embedding.data[0].embedding).toHaveLength(1536);
      const response = await client.responses.create({ model: 'gpt-4o', input: 'Say hello', max_output_tokens: 400 });
      expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
      expect(response.object).toBe('response');
      expect(response.status).toBe('completed');
      expect(response.output[0].type).toBe('message');
      expect(response.output_text.length).toBeGreaterThan(0);
      expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
    });
  }

  it('streams the typed events; the SDK assembles the text', async () => {
    const stream = v1().responses.stream({ model: 'gpt-4o', input: 'Tell me a story', max_output_tokens: 200 });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe(final.output_text);
    expect(deltas.length).toBe(final.usage!.output_tokens);
  });

  it('calls a function, then answers once the function output is in', async () => {
    const client = v1();
    const first = await client.responses.create({ model: 'gpt-4o', input: 'Weather in Paris?', tools: [weather], tool_choice: 'auto' });
    const call = first.output.find((o) => o.type === 'function_call')!;
    expect(call).toBeDefined();
    if (call.type !== 'function_call') throw new Error('not a call');
    expect(call.name).toBe('get_weather');
    expect(typeof JSON.parse(call.arguments).city).toBe('string');
    const second = await client.responses.create({
      model: 'gpt-4o',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 21}' }],
      tools: [weather],
    });
    expect(second.output[0].type).toBe('message');
    // The earlier turn (question, call) is billed again as input.
    expect(second.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);
  });

  it('json_schema output fits the schema; max_output_tokens cuts with status incomplete', async () => {
    const client = v1();
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer' } },
      required: ['name', 'age'],
      additionalProperties: false,
    };
    const shaped = await client.responses.create({
      model: 'gpt-4o',
      input: 'A person',
      text: { format: { type: 'json_schema', name: 'person', schema, strict: true } },
    });
    const value = JSON.parse(shaped.output_text);
    expect(typeof value.name).toBe('string');
    expect(Number.isInteger(value.age)).toBe(true);
    const cut = await client.responses.create({ model: 'gpt-4o', input: 'Write an essay', max_output_tokens: 16 });
    expect(cut.status).toBe('incomplete');
    expect(cut.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(cut.usage!.output_tokens).toBe(16);
  });

  it('a reasoning model adds a reasoning item and counts reasoning tokens; temperature is refused', async () => {
    const client = v1();
    const answer = await client.responses.create({ model: 'o4-mini', input: 'Think', reasoning: { effort: 'low' }, max_output_tokens: 2000 });
    expect(answer.output[0].type).toBe('reasoning');
    expect(answer.usage!.output_tokens_details.reasoning_tokens).toBe(64);
    const refused = await apiError(client.responses.create({ model: 'o4-mini', input: 'x', temperature: 0.2 }));
    expect(refused.status).toBe(400);
    expect(refused.param).toBe('temperature');
  });

  it('lists models in the v1 shape', async () => {
    const models = await v1().models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o');
    expect(models.data[0].object).toBe('model');
  });
});

describe('AzureOpenAI on the classic prefix', () => {
  const azure = (apiVersion = RESPONSES_VERSION) => new AzureOpenAI({ endpoint: sim.url, apiKey: KEY, apiVersion, maxRetries: 0 });

  it('creates, retrieves, lists input items and deletes a response', async () => {
    const client = azure();
    const created = await client.responses.create({ model: 'gpt-4o', input: 'hello there', metadata: { run: '1' } });
    expect(created.metadata).toEqual({ run: '1' });
    const again = await client.responses.retrieve(created.id);
    expect(again.output_text).toBe(created.output_text);
    const items = await client.responses.inputItems.list(created.id);
    expect(items.data[0].type).toBe('message');
    await client.responses.delete(created.id);
    expect((await apiError(client.responses.retrieve(created.id))).status).toBe(404);
  });

  it('models.list in Azure shape', async () => {
    const models = await azure(API_VERSION).models.list();
    const entry = models.data.find((m) => m.id === 'gpt-4o') as unknown as { capabilities: { chat_completion: boolean } };
    expect(entry.capabilities.chat_completion).toBe(true);
  });

  it('an api-version before 2025-03-01-preview is AOAI 400', async () => {
    const err = await apiError(azure('2024-10-21').responses.create({ model: 'gpt-4o', input: 'hi' }));
    expect(err.status).toBe(400);
    expect(err.error).toEqual({ code: 'BadRequest', message: 'Azure OpenAI Responses API is enabled only for api-version 2025-03-01-preview and later' });
  });

  it('an AzureOpenAI client given a v1 base URL reaches /openai/v1/deployments/{d}/...', async () => {
    const client = new AzureOpenAI({ baseURL: `${sim.url}/openai/v1`, apiKey: KEY, apiVersion: 'preview', deployment: 'gpt-4o', maxRetries: 0 });
    const chat = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.object).toBe('chat.completion');
  });
});

describe('raw HTTP', () => {
  const path = `/openai/responses?api-version=${RESPONSES_VERSION}`;

  it('the typed event sequence: event lines, increasing sequence numbers, no [DONE]', async () => {
    const response = await post(sim.url, path, { model: 'gpt-4o', input: 'hi', stream: true, max_output_tokens: 50 });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await typedEvents(response);
    const names = events.map(([name]) => name);
    expect(names.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(names.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', names.at(-1)]);
    expect(['response.completed', 'response.incomplete']).toContain(names.at(-1));
    for (const [name, data] of events) expect(data.type).toBe(name);
    expect(events.map(([, d]) => d.sequence_number)).toEqual(events.map((_, i) => i));
    expect(names).not.toContain('[DONE]');
  });

  it('a stream cut by fault injection ends with the typed error event', async () => {
    const response = await post(sim.url, '/openai/v1/responses', { model: 'cut', input: 'x', stream: true, max_output_tokens: 100 });
    const events = await typedEvents(response);
    expect(events.filter(([n]) => n === 'response.output_text.delta')).toHaveLength(3);
    const [name, data] = events.at(-1)!;
    expect(name).toBe('error');
    expect(data).toMatchObject({ type: 'error', code: 'server_error', sequence_number: events.length - 1 });
  });

  it('function-call arguments stream as deltas', async () => {
    const response = await post(sim.url, path, {
      model: 'gpt-4o',
      input: 'x',
      tools: [weather],
      tool_choice: { type: 'function', name: 'get_weather' },
      stream: true,
    });
    const events = await typedEvents(response);
    const deltas = events.filter(([n]) => n === 'response.function_call_arguments.delta').map(([, d]) => d.delta);
    const done = events.find(([n]) => n === 'response.function_call_arguments.done')![1];
    expect(deltas.join('')).toBe(done.arguments);
    expect(done.name).toBe('get_weather');
  });

  const cases: [string, string, unknown, number, (body: any) => void][] = [
    ['no api-version on the classic route', '/openai/responses', { model: 'gpt-4o', input: 'x' }, 404, (b) => expect(b.error.code).toBe('404')],
    ['an unknown model on v1', '/openai/v1/responses', { model: 'nope', input: 'x' }, 404, (b) => expect(b.error.code).toBe('DeploymentNotFound')],
    ['no model on v1', '/openai/v1/chat/completions', { messages: [] }, 400, (b) => expect(b.error.param).toBe('model')],
    ['no input', path, { model: 'gpt-4o' }, 400, (b) => expect(b.error.param).toBe('input')],
    ['a hosted tool', path, { model: 'gpt-4o', input: 'x', tools: [{ type: 'web_search_preview' }] }, 400, (b) => expect(b.error.param).toBe('tools[0].type')],
    ['background without store', path, { model: 'gpt-4o', input: 'x', background: true, store: false }, 400, (b) => expect(b.error.param).toBe('background')],
    [
      'an unknown previous_response_id',
      path,
      { model: 'gpt-4o', input: 'x', previous_response_id: 'resp_unknown' },
      400,
      (b) => expect(b.error).toMatchObject({ code: 'previous_response_not_found', param: 'previous_response_id' }),
    ],
    ['malformed JSON on v1', '/openai/v1/responses', '{"model":', 400, (b) => expect(b.error.type).toBe('invalid_request_error')],
  ];
  for (const [name, at, body, status, check] of cases) {
    it(`${name} → ${status}`, async () => {
      const response = await post(sim.url, at, body);
      expect(response.status).toBe(status);
      check(await response.json());
    });
  }

  it('GET and DELETE of an unknown id are 404; the classic routes take api-version=v1', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(`${sim.url}/openai/v1/responses/resp_missing`, { method, headers: { authorization: `Bearer ${KEY}` } });
      expect(response.status).toBe(404);
    }
    const chat = await post(sim.url, '/openai/deployments/gpt-4o/chat/completions?api-version=v1', { messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.status).toBe(200);
  });

  it('background: queued at once, in progress while the answer would take, then completed; cancel before the end', async () => {
    const slow = await startSimulator({ SIMULATOR_LATENCY: 'on', LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '20', LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0' });
    try {
      const client = new OpenAI({ baseURL: `${slow.url}/openai/v1/`, apiKey: KEY, maxRetries: 0 });
      const queued = await client.responses.create({ model: 'gpt-4o', input: 'long', background: true, max_output_tokens: 50 });
      expect(queued.status).toBe('queued');
      expect((await client.responses.retrieve(queued.id)).status).toBe('in_progress');
      let done = await client.responses.retrieve(queued.id);
      for (let i = 0; i < 100 && done.status === 'in_progress'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        done = await client.responses.retrieve(queued.id);
      }
      expect(['completed', 'incomplete']).toContain(done.status);
      expect(done.output.length).toBeGreaterThan(0);
      const other = await client.responses.create({ model: 'gpt-4o', input: 'long', background: true, max_output_tokens: 100 });
      const cancelled = await client.responses.cancel(other.id);
      expect(cancelled.status).toBe('cancelled');
      expect((await client.responses.retrieve(other.id)).status).toBe('cancelled');
    } finally {
      await slow.close();
    }
  });

  it('admission counts input and max_output_tokens on the deployment windows; the 429 names the operation', async () => {
    const first = await post(sim.url, `/openai/deployments/tight/responses?api-version=${RESPONSES_VERSION}`, { input: 'x', max_output_tokens: 900 });
    expect(first.status).toBe(200);
    expect(Number(first.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(100);
    const second = await post(sim.url, `/openai/deployments/tight/responses?api-version=${RESPONSES_VERSION}`, { input: 'x', max_output_tokens: 900 });
    expect(second.status).toBe(429);
    expect((await second.json()).error.message).toMatch(/Responses_Create Operation/);
  });
});

describe("the Python simulator's example deployment file", () => {
  it('starts with its embedding models (text-embedding-3-medium and -xlarge included) and serves them', async () => {
    const python = await startSimulator({
      OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({
        deployment1: { model: 'gpt-3.5-turbo', tokensPerMinute: 60000 },
        'text-embedding-3-medium': { model: 'text-embedding-3-medium', tokensPerMinute: 10000, embeddingSize: 768 },
        'text-embedding-3-xlarge': { model: 'text-embedding-3-xlarge', tokensPerMinute: 10000 },
        'text-embedding-ada-001': { model: 'text-embedding-ada-001', tokensPerMinute: 10000, embeddingSize: 768 },
        whisper100: { model: 'whisper', requestsPerMinute: 100 },
      }),
    });
    try {
      const client = new OpenAI({ baseURL: `${python.url}/openai/v1/`, apiKey: KEY, maxRetries: 0 });
      expect((await client.embeddings.create({ model: 'text-embedding-3-medium', input: 'x' })).data[0].embedding).toHaveLength(768);
      expect((await client.embeddings.create({ model: 'text-embedding-3-xlarge', input: 'x', dimensions: 256 })).data[0].embedding).toHaveLength(256);
    } finally {
      await python.close();
    }
  });
});
