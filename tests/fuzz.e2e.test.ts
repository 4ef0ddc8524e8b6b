// Thousands of generated malformed and hostile requests (loadtest/fuzz-corpus.ts: every route,
// fields removed and retyped, hostile schemas, names, encodings, sizes) against one simulator:
// no 5xx, no connection dropped, no request left hanging, and the server still answers after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzCorpus } from '../loadtest/fuzz-corpus';
import { startSimulator, type TestSimulator } from './helpers';

const COUNT = 3000;
const CONCURRENCY = 16;
let sim: TestSimulator;

beforeAll(async () => {
  sim = await startSimulator({ SIMULATOR_API_KEY: 'fuzz-key' });
});
afterAll(() => sim.close());

describe('fuzzing every route', () => {
  it(`${COUNT} hostile requests: no 5xx, no dropped connection, no hang`, async () => {
    const corpus = fuzzCorpus(COUNT, 20261201);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < corpus.length; i = next++) {
        const request = corpus[i];
        try {
          const response = await fetch(sim.url + request.path, {
            method: request.method,
            headers: request.headers,
            body: request.body as BodyInit | undefined,
            signal: AbortSignal.timeout(20_000),
          });
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status >= 500) failures.push(`${response.status} ${request.method} ${request.path.slice(0, 120)}`);
        } catch (err) {
          failures.push(`${(err as Error).name}: ${(err as Error).message} ${request.method} ${request.path.slice(0, 120)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures.slice(0, 20)).toEqual([]);
    // The corpus reached the operations, not only the front door.
    expect((statuses.get(200) ?? 0) + (statuses.get(400) ?? 0)).toBeGreaterThan(COUNT / 5);
    expect((await fetch(sim.url + '/')).status).toBe(200);
  }, 240_000);
});
