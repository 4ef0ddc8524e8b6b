// Clients people write today, unchanged: @ai-sdk/azure with its defaults (Responses models on
// /openai/v1/responses, .chat() on /openai/v1/chat/completions) and LangChain's AzureChatOpenAI
// with useResponsesApi (/openai/deployments/{d}/responses). On a host that is not *.azure.com,
// @ai-sdk/azure uses baseURL as given (no /v1, no api-version), so it is pointed at /openai/v1.
import { createAzure } from '@ai-sdk/azure';
import { AzureChatOpenAI } from '@langchain/openai';
import { generateText, jsonSchema, streamText, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KEY, startSimulator, type TestSimulator } from './helpers';

let sim: TestSimulator;
const paths: string[] = [];

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());

/** fetch that notes each path the client called. */
const noting: typeof fetch = (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  paths.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
  return fetch(input, init);
};

describe('@ai-sdk/azure with its defaults', () => {
  const azure = () => createAzure({ baseURL: `${sim.url}/openai/v1`, apiKey: KEY, fetch: noting });

  it('azure(deployment) is a Responses model: generateText and streamText', async () => {
    paths.length = 0;
    const { text, usage } = await generateText({ model: azure()('gpt-4o'), prompt: 'Say hello', maxOutputTokens: 500 });
    expect(text.length).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(paths).toEqual(['POST /openai/v1/responses']);
    const streamed = streamText({ model: azure()('gpt-4o'), prompt: 'Tell me more', maxOutputTokens: 500 });
    let chunks = 0;
    for await (const part of streamed.textStream) if (part) chunks++;
    expect(chunks).toBeGreaterThan(1);
    expect(await streamed.text).toMatch(/\w/);
  });

  it('tools through the Responses model', async () => {
    const result = await generateText({
      model: azure()('gpt-4o'),
      prompt: 'Weather in Oslo?',
      toolChoice: 'required',
      tools: {
        get_weather: tool({
          description: 'Weather for a city',
          inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
        }),
      },
    });
    expect(result.toolCalls[0].toolName).toBe('get_weather');
    expect(typeof (result.toolCalls[0].input as { city: string }).city).toBe('string');
  });

  it('.chat(deployment) posts to /openai/v1/chat/completions', async () => {
    paths.length = 0;
    const { text } = await generateText({ model: azure().chat('gpt-4o'), prompt: 'hi', maxOutputTokens: 10 });
    expect(text.length).toBeGreaterThan(0);
    expect(paths).toEqual(['POST /openai/v1/chat/completions']);
  });

  it('useDeploymentBasedUrls with its default api-version (v1) works too', async () => {
    paths.length = 0;
    const deploymentBased = createAzure({ baseURL: `${sim.url}/openai`, apiKey: KEY, fetch: noting, useDeploymentBasedUrls: true });
    const { text } = await generateText({ model: deploymentBased.chat('gpt-4o'), prompt: 'hi', maxOutputTokens: 10 });
    expect(text.length).toBeGreaterThan(0);
    expect(paths).toEqual(['POST /openai/deployments/gpt-4o/chat/completions?api-version=v1']);
  });
});

describe('@langchain/openai AzureChatOpenAI with useResponsesApi', () => {
  const model = () =>
    new AzureChatOpenAI({
      azureOpenAIApiKey: KEY,
      azureOpenAIBasePath: `${sim.url}/openai/deployments`,
      azureOpenAIApiDeploymentName: 'gpt-4o',
      azureOpenAIApiVersion: '2025-04-01-preview',
      useResponsesApi: true,
      maxRetries: 0,
      maxTokens: 500,
      configuration: { fetch: noting },
    });

  it('invoke and stream through /openai/deployments/gpt-4o/responses', async () => {
    paths.length = 0;
    const answer = await model().invoke('Say hello');
    expect(typeof answer.content === 'string' ? answer.content : answer.text).toMatch(/\w/);
    expect(paths[0]).toBe('POST /openai/deployments/gpt-4o/responses?api-version=2025-04-01-preview');
    let text = '';
    for await (const chunk of await model().stream('And again')) text += chunk.text;
    expect(text).toMatch(/\w/);
  });

  it('withStructuredOutput jsonMode: the answer has the shape the prompt shows (an example, or a schema)', async () => {
    const chat = new AzureChatOpenAI({
      azureOpenAIApiKey: KEY,
      azureOpenAIBasePath: `${sim.url}/openai/deployments`,
      azureOpenAIApiDeploymentName: 'gpt-4o',
      azureOpenAIApiVersion: '2024-10-21',
      maxRetries: 0,
    });
    const person = z.object({ name: z.string(), age: z.number(), tags: z.array(z.string()) });
    const structured = chat.withStructuredOutput(person, { method: 'jsonMode' });
    const fromExample = await structured.invoke('Answer in JSON like {"name": "Ada", "age": 36, "tags": ["math"]} for a famous scientist.');
    expect(person.parse(fromExample)).toEqual(fromExample);
    const schema = JSON.stringify(z.toJSONSchema(person));
    const fromSchema = await structured.invoke(`Answer in JSON matching this schema: ${schema}`);
    expect(person.parse(fromSchema)).toEqual(fromSchema);
  });
});
