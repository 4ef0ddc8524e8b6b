// Paced replays under a busy event loop: every streamed replay ends. A stale loop clock once let
// a replay's timer fire before its next event was due; the stream then waited for a pull that
// never came (seen as replays that sent no end within 30 s on a busy machine).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatPath, KEY, startSimulator, type TestSimulator } from './helpers';

const EVENTS = 30;
const body = JSON.stringify({ messages: [{ role: 'user', content: 'Count to thirty' }], stream: true });
let sim: TestSimulator;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aoai-replay-stress-'));
  const events = Array.from(
    { length: EVENTS },
    (_, i) => `data: ${JSON.stringify({ id: 'chatcmpl-r', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: ` ${i + 1}` } }] })}\n\n`,
  );
  events.push('data: [DONE]\n\n');
  const interaction = {
    request: { method: 'POST', uri: `http://localhost/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, body, headers: {} },
    response: {
      status: { code: 200 },
      headers: { 'content-type': ['text/event-stream; charset=utf-8'] },
      body: { string: events.join('') },
      duration_ms: 3 * EVENTS,
      // One event every 3 ms: timers due every few ms, many of them as the loop is held.
      event_offsets_ms: events.map((_, i) => 3 * i),
    },
  };
  writeFileSync(join(dir, 'openai_deployments_gpt-4o_chat_completions.yaml'), stringify({ interactions: [interaction], version: 1 }));
  sim = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir });
});

afterAll(() => sim.close());

describe('paced replay under a busy event loop', () => {
  it('every one of 400 concurrent streamed replays ends with [DONE]', async () => {
    // Holds this process's loop 7 ms in every 10, as a busy machine (or a heavy neighbour request) does.
    const spinner = setInterval(() => {
      const until = Date.now() + 7;
      while (Date.now() < until);
    }, 10);
    try {
      const one = async () => {
        try {
          return await replayOnce();
        } catch {
          return false; // no end within 30 s
        }
      };
      const replayOnce = async () => {
        const res = await fetch(sim.url + chatPath('gpt-4o'), {
          method: 'POST',
          headers: { 'api-key': KEY, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(30000),
        });
        const text = await res.text();
        return res.status === 200 && text.endsWith('data: [DONE]\n\n') && text.split('\n\n').length === EVENTS + 2;
      };
      const results: boolean[] = [];
      for (let wave = 0; wave < 4; wave++) results.push(...(await Promise.all(Array.from({ length: 100 }, one))));
      console.log(`paced replays: ${results.filter((ok) => !ok).length} of ${results.length} without an end`);
      expect(results.filter((ok) => !ok)).toHaveLength(0);
    } finally {
      clearInterval(spinner);
    }
  }, 150000);
});
