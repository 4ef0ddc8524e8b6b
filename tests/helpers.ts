// Shared test fixtures: a real simulator on loopback, the official SDK pointed at it, raw HTTP
// helpers, and a generated WAV file.

import { APIError, AzureOpenAI } from 'openai';
import { createParser } from 'eventsource-parser';
import { loadConfig } from '../src/config';
import { startServer } from '../server/index';

export const KEY = 'test-key-0123456789';
export const API_VERSION = '2024-10-21';

export interface TestSimulator {
  url: string;
  close(): Promise<void>;
}

/** A simulator on loopback; simulated latency is off unless a test turns it on. */
export async function startSimulator(env: Record<string, string> = {}): Promise<TestSimulator> {
  const config = loadConfig({ SIMULATOR_API_KEY: KEY, SIMULATOR_LATENCY: 'off', ...env });
  return startServer(config, 0, '127.0.0.1');
}

export function sdk(url: string, deployment: string, apiVersion = API_VERSION, maxRetries = 0): AzureOpenAI {
  return new AzureOpenAI({ endpoint: url, apiKey: KEY, apiVersion, deployment, maxRetries });
}

export function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url + path, {
    method: 'POST',
    headers: { 'api-key': KEY, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export const chatPath = (deployment: string, apiVersion = API_VERSION) => `/openai/deployments/${deployment}/chat/completions?api-version=${apiVersion}`;

/** Every SSE `data:` payload of a response, in order (parsed by eventsource-parser). */
export async function sseData(response: Response): Promise<string[]> {
  const data: string[] = [];
  const parser = createParser({ onEvent: (event) => data.push(event.data) });
  parser.feed(await response.text());
  return data;
}

/** A PCM WAV (16 kHz, mono, 16-bit) of a sine tone lasting `seconds`. */
export function wav(seconds: number): Buffer {
  const rate = 16000;
  const samples = Math.round(seconds * rate);
  const out = Buffer.alloc(44 + samples * 2);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write('WAVEfmt ', 8, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28); // byte rate
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return out;
}

export { deploymentsFile } from '../loadtest/processes';

/** The APIError a call fails with (failing the test if it does not fail that way). */
export async function apiError(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof APIError) return err;
    throw err;
  }
  throw new Error('expected an APIError');
}
