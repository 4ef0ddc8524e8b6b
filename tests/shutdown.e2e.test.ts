// SIGTERM on the built standalone server: nothing in flight is reset, answers in flight finish
// within SHUTDOWN_GRACE_SECONDS, a stream that must be cut ends with AOAI's error event, and the
// process exits as soon as nothing is left. kill -9 of a recording instance loses no exchange
// whose answer a client has received in full.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSimulatorProcess } from '../loadtest/processes';
import { KEY } from './helpers';
import { startUpstream } from './upstream';

const V = 'api-version=2024-10-21';
const exited = (child: import('node:child_process').ChildProcess) =>
  new Promise<number>((resolve) => {
    const started = Date.now();
    if (child.exitCode !== null) resolve(0);
    child.once('exit', () => resolve(Date.now() - started));
  });
const post = (url: string, path: string, body: unknown) =>
  fetch(url + path, { method: 'POST', headers: { 'api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('SIGTERM', () => {
  it('with nothing in flight the process exits at once', async () => {
    const sim = await startSimulatorProcess({ SIMULATOR_API_KEY: KEY, SIMULATOR_LATENCY: 'off' });
    expect((await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, { messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
    const exit = exited(sim.process);
    sim.process.kill('SIGTERM');
    // The old shutdown always took 5 s; generous for a busy machine.
    expect(await exit).toBeLessThan(4000);
  });

  it('requests in flight are all answered; a stream past the grace ends with the error event', async () => {
    const sim = await startSimulatorProcess({
      SIMULATOR_API_KEY: KEY,
      SHUTDOWN_GRACE_SECONDS: '2',
      LATENCY_OPENAI_EMBEDDINGS_MEAN: '400',
      LATENCY_OPENAI_EMBEDDINGS_STD_DEV: '0',
      LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '200',
      LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0',
    });
    // A 100-token stream at 200 ms a token (20 s) cannot finish within the 2 s grace.
    const stream = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, {
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 100,
      stream: true,
    });
    const streamed = stream.text();
    // A burst of 200 that take 400 ms each, on their own connections, all connected (accepted by
    // the kernel) and sent before the signal: many are still in the listen backlog when it comes.
    const sent: Promise<void>[] = [];
    const burst = Array.from({ length: 200 }, () => {
      let isSent!: () => void;
      sent.push(new Promise<void>((r) => (isSent = r)));
      return new Promise<number>((resolve, reject) => {
        const body = JSON.stringify({ input: 'hello' });
        const req = request(`${sim.url}/openai/deployments/text-embedding-ada-002/embeddings?${V}`, {
          method: 'POST',
          agent: false,
          headers: { 'api-key': KEY, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.on('socket', (socket) => socket.once('connect', () => req.end(body, isSent)));
      });
    });
    await Promise.all(sent);
    const exit = exited(sim.process);
    sim.process.kill('SIGTERM');
    const answers = await Promise.allSettled(burst);
    expect(answers.filter((a) => a.status === 'rejected')).toHaveLength(0);
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : 0))).toEqual(answers.map(() => 200));
    const text = await streamed;
    expect(text).toContain('"code":"server_error"');
    expect(text).not.toContain('[DONE]');
    expect(await exit).toBeLessThan(8000);
  });
});

describe('kill -9 while recording', () => {
  it('every exchange a client has received in full is in the recording files', async () => {
    const upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'aoai-kill-'));
    const sim = await startSimulatorProcess({
      SIMULATOR_API_KEY: KEY,
      SIMULATOR_MODE: 'record',
      RECORDING_DIR: dir,
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_KEY: 'upstream-key',
    });
    const received: string[] = [];
    const failed: string[] = [];
    // 60 distinct exchanges, every other one a paced stream, sent 25 ms apart; the process is
    // killed as the 20th answer is received in full.
    const sent = Array.from({ length: 60 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 25));
      const marker = `exchange${String(i).padStart(3, '0')}`;
      try {
        const res = await post(sim.url, `/openai/deployments/gpt-4o/chat/completions?${V}`, {
          messages: [{ role: 'user', content: marker }],
          stream: i % 2 === 0,
        });
        const text = await res.text();
        if (res.status === 200 && (i % 2 === 1 || text.includes('[DONE]'))) received.push(marker);
        // Killed the moment a client has its answer: the least time there could be to save it.
        if (received.length === 20) sim.process.kill('SIGKILL');
      } catch {
        failed.push(marker); // cut by the kill: never acknowledged
      }
    });
    await Promise.all(sent);
    await upstream.close();
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));
    const saved = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    console.log(`kill -9: ${received.length} answered in full, ${failed.length} cut; ${files.length} file(s)`);
    expect(received.length).toBeGreaterThan(5);
    expect(failed.length).toBeGreaterThan(5);
    expect(received.filter((marker) => !saved.includes(marker))).toEqual([]);
  }, 30000);
});
