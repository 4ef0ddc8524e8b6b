// `npm run bench`: the simulator against a bare node:http server returning a fixed JSON, side by
// side in one run under the same load generator (autocannon), printed as ratios. Servers run in
// child processes, the load generator here.
//
// 1. Throughput: chat (non-streaming, streaming), embeddings, the 429 path, and a replayed
//    recording (replay mode, no waiting), as ratios to bare.
// 2. Paced streams: thousands of concurrent streams at a configured TTFT and inter-token delay;
//    the measured times against the configured ones, and the simulator's CPU per stream.
// 3. Scale-out: three simulator processes sharing one Table Storage (Azurite, in this process) at
//    10M TPM with demand above it: requests/s, storage operations per admitted request, and
//    admitted tokens / limit per full minute window.
//
//   BENCH_SECONDS        measured seconds per throughput scenario (default 8, after a 2 s warm-up)
//   BENCH_CONNECTIONS    concurrent connections (default 50)
//   BENCH_MULTI_SECONDS  length of the scale-out run (default: until one full minute window is in)
//   BENCH_STREAMS        concurrent paced streams (default 2000)
//   BENCH_ONLY           run one part: throughput, paced or scale-out

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startAzuriteTables } from './azurite';
import { deploymentsFile, startProcess, startSimulatorProcess } from './processes';
import { bodyHash, serialiseRecordingFile } from '../src/modes/recordings/format';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const MULTI_SECONDS = process.env.BENCH_MULTI_SECONDS ? Number(process.env.BENCH_MULTI_SECONDS) : undefined;
const KEY = 'bench-key';
const MULTI_TPM = 10_000_000;
const MULTI_MAX_TOKENS = 100;

// The baseline: a fixed JSON about the size of a short chat completion, with no work per request.
const BARE_SERVER = `
const body = JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, this is a fixed answer of about twenty tokens long for the baseline server.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29 } });
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); });
});
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`;

/** Which simulator answers: latency off (main), latency on with every wait zero, or replay mode. */
type Server = 'main' | 'zeroWaits' | 'replay';
interface Scenario {
  name: string;
  path: string;
  body?: unknown;
  expect?: number;
  target?: number;
  server?: Server;
  /** Compared with the scenario at this index (Responses against chat): it should cost no more. */
  versus?: number;
}

const request = (url: string, s: Scenario, connections = CONNECTIONS) => ({
  url: url + s.path,
  connections,
  method: s.body ? ('POST' as const) : ('GET' as const),
  headers: { 'api-key': KEY, 'content-type': 'application/json' },
  body: s.body ? JSON.stringify(s.body) : undefined,
});

async function measure(url: string, s: Scenario): Promise<number> {
  await autocannon({ ...request(url, s), duration: 2 });
  const result = await autocannon({ ...request(url, s), duration: SECONDS });
  const expected = s.expect ?? 200;
  const matching = (result.statusCodeStats as Record<string, { count: number }>)[String(expected)]?.count ?? 0;
  // The 429 scenario's window rolls over now and then, admitting one request: allow 1%.
  if (result.errors || matching < result.requests.total * (s.expect ? 0.99 : 1)) {
    throw new Error(`${s.name}: ${result.errors} errors, ${result.requests.total - matching} answers other than ${expected}`);
  }
  return result.requests.average;
}

const V = '?api-version=2024-10-21';
const messages = [{ role: 'user', content: 'Write a short greeting for the team.' }];
const chatPath = (d: string) => `/openai/deployments/${d}/chat/completions${V}`;
const SCENARIOS: Scenario[] = [
  { name: 'chat, non-streaming (20 tokens)', path: chatPath('gpt-4o'), body: { messages, max_tokens: 20 }, target: 0.45 },
  { name: 'chat, streaming (20 tokens)', path: chatPath('gpt-4o'), body: { messages, max_tokens: 20, stream: true }, target: 0.35 },
  {
    name: 'chat, latency on, zero waits',
    path: chatPath('gpt-4o'),
    body: { messages, max_tokens: 20 },
    server: 'zeroWaits',
  },
  {
    name: 'responses, non-streaming (20 tokens)',
    path: '/openai/v1/responses',
    body: { model: 'gpt-4o', input: messages[0].content, max_output_tokens: 20 },
    versus: 0,
  },
  {
    name: 'responses, streaming (20 tokens)',
    path: '/openai/v1/responses',
    body: { model: 'gpt-4o', input: messages[0].content, max_output_tokens: 20, stream: true },
    versus: 1,
  },
  {
    name: 'embeddings (ada-002, base64)',
    path: `/openai/deployments/text-embedding-ada-002/embeddings${V}`,
    body: { input: 'The quick brown fox', encoding_format: 'base64' },
    target: 0.3,
  },
  { name: '429 path (limit spent)', path: chatPath('throttled'), body: { messages, max_tokens: 20 }, expect: 429, target: 0.7 },
  { name: 'replay hit (chat, recorded)', path: chatPath('gpt-4o'), body: { messages, max_tokens: 20 }, server: 'replay' },
];

/** A recording folder holding the replay scenario's exchange, as record mode would have saved it. */
function recordingDir(s: Scenario): string {
  const dir = mkdtempSync(join(tmpdir(), 'aoai-bench-rec-'));
  const body = JSON.stringify(s.body);
  const answer = {
    id: 'chatcmpl-recorded',
    object: 'chat.completion',
    created: 1700000000,
    model: 'gpt-4o-2024-08-06',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello team, a recorded greeting of about twenty tokens for the replay benchmark run.' },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 16, completion_tokens: 20, total_tokens: 36 },
  };
  writeFileSync(
    join(dir, 'openai_deployments_gpt-4o_chat_completions.yaml'),
    serialiseRecordingFile([
      {
        request: {
          method: 'POST',
          uri: `http://localhost${s.path}`,
          headers: { 'content-type': ['application/json'] },
          body,
          body_hash: bodyHash(body, 'application/json'),
        },
        response: { status: { code: 200 }, headers: { 'content-type': ['application/json'] }, body: { string: JSON.stringify(answer) }, duration_ms: 900 },
        context_values: {},
      },
    ]),
  );
  return dir;
}

const table = (rows: string[][], widths: number[]) => rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join(' ')).join('\n');

async function throughput(): Promise<boolean> {
  const bareServer = await startProcess(['-e', BARE_SERVER]);
  // 'throttled' has one request per 10 s: after the first, every request is a 429.
  const sim = await startSimulatorProcess({
    SIMULATOR_API_KEY: KEY,
    SIMULATOR_LATENCY: 'off',
    OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({ throttled: { model: 'gpt-4o', tokensPerMinute: 1000, requestsPerMinute: 6 } }),
  });
  // Latency on, every wait zero: what the timing machinery itself costs (target: within 10% of off).
  const zeroWaits = await startSimulatorProcess({
    SIMULATOR_API_KEY: KEY,
    LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '0',
    LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0',
  });
  const replayScenario = SCENARIOS.find((s) => s.server === 'replay')!;
  const replaySim = await startSimulatorProcess({
    SIMULATOR_API_KEY: KEY,
    SIMULATOR_MODE: 'replay',
    RECORDING_DIR: recordingDir(replayScenario),
    RECORDING_TIME_FACTOR: '0',
  });
  try {
    console.log(`Throughput: ${CONNECTIONS} connections, ${SECONDS} s per run after a 2 s warm-up, Node ${process.version}\n`);
    const bareScenario = { name: 'bare', path: '/', body: { messages } };
    // The load generator itself needs warming (JIT) before its first measured run.
    await autocannon({ ...request(bareServer.url, bareScenario), duration: 5 });
    const bareBefore = await measure(bareServer.url, bareScenario);
    const measured: [Scenario, number][] = [];
    for (const s of SCENARIOS) {
      if (s.expect === 429)
        await fetch(sim.url + s.path, { method: 'POST', headers: { 'api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify(s.body) });
      measured.push([s, await measure({ main: sim, zeroWaits, replay: replaySim }[s.server ?? 'main'].url, s)]);
    }
    const bareAfter = await measure(bareServer.url, bareScenario);
    const bare = (bareBefore + bareAfter) / 2;
    const rows = [['scenario', 'req/s', 'ratio', 'target']];
    let ok = true;
    const latencyOff = measured[0][1];
    for (const [s, rps] of measured) {
      const ratio = rps / bare;
      let verdict = s.target ? `${ratio >= s.target ? '>=' : 'BELOW'} ${s.target}x` : '';
      if (s.target && ratio < s.target) ok = false;
      if (s.versus !== undefined) {
        const of = rps / measured[s.versus][1];
        verdict = `${of.toFixed(2)}x of chat ${of >= 0.9 ? '(no costlier)' : 'COSTLIER'}`;
      }
      if (s.server === 'zeroWaits') {
        // Compared with latency off, measured in this same run.
        const within = rps >= 0.9 * latencyOff;
        verdict = `${(rps / latencyOff).toFixed(2)}x of off ${within ? '(within 10%)' : 'BELOW 0.9x'}`;
        if (!within) ok = false;
      }
      rows.push([s.name, rps.toFixed(0), ratio.toFixed(2) + 'x', verdict]);
    }
    console.log(
      `bare node:http fixed JSON: ${bareBefore.toFixed(0)} req/s before, ${bareAfter.toFixed(0)} req/s after; ratios use their mean, ${bare.toFixed(0)}\n`,
    );
    console.log(table(rows, [34, 10, 8, 26]) + '\n');
    return ok;
  } finally {
    await Promise.all([bareServer.stop(), sim.stop(), zeroWaits.stop(), replaySim.stop()]);
  }
}

async function scaleOut(): Promise<void> {
  const azurite = await startAzuriteTables();
  const env = {
    SIMULATOR_API_KEY: KEY,
    SIMULATOR_LATENCY: 'off',
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
    OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({ big: { model: 'gpt-4o', tokensPerMinute: MULTI_TPM, requestsPerMinute: 100_000_000 } }),
  };
  const servers = await Promise.all([1, 2, 3].map(() => startSimulatorProcess(env)));
  try {
    const body = { messages: [{ role: 'user', content: 'Count to ten' }], max_tokens: MULTI_MAX_TOKENS };
    const probe = await fetch(servers[0].url + chatPath('big'), {
      method: 'POST',
      headers: { 'api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const cost = ((await probe.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens + MULTI_MAX_TOKENS;
    const opsBefore = azurite.requests;
    // Admissions are attributed to windows by the response's `created` (the server's admission
    // second), not by when the client received them, which can fall in the next window.
    const admittedAt: number[] = [];
    let rejected = 0;
    const onResponse = (status: number, responseBody: string) => {
      if (status === 429) rejected++;
      else if (status === 200) admittedAt.push(Number(/"created":(\d+)/.exec(responseBody)?.[1]) * 1000);
    };
    const start = Date.now();
    // Long enough to hold one whole minute window (the token window), from wherever we start.
    const duration = MULTI_SECONDS ?? Math.ceil(((Math.ceil(start / 60000) + 1) * 60000 + 1000 - start) / 1000);
    const results = await Promise.all(
      servers.map((s) => {
        const { url, ...options } = request(s.url, { name: 'big', path: chatPath('big'), body }, Math.ceil(CONNECTIONS / 3));
        return autocannon({ ...options, url, duration, requests: [{ method: 'POST', body: options.body, headers: options.headers, onResponse }] });
      }),
    );
    const end = Date.now();
    const ops = azurite.requests - opsBefore;
    const total = results.reduce((sum, r) => sum + r.requests.total, 0);
    const seconds = (end - start) / 1000;
    console.log(
      `Scale-out: 3 processes sharing Azurite Table Storage, deployment at ${MULTI_TPM.toLocaleString('en')} TPM, ${cost} tokens per request, ${duration} s\n`,
    );
    const rows = [
      ['requests/s (all answers)', (total / seconds).toFixed(0)],
      ['admitted requests/s', (admittedAt.length / seconds).toFixed(0)],
      ['429s', String(rejected)],
      ['storage operations', String(ops)],
      ['storage operations per admitted request', (ops / Math.max(1, admittedAt.length)).toFixed(4)],
    ];
    const minutes = new Map<number, number>();
    for (let m = Math.ceil(start / 60000); (m + 1) * 60000 <= end; m++) minutes.set(m, 0);
    for (const t of admittedAt) {
      const m = Math.floor(t / 60000);
      if (minutes.has(m)) minutes.set(m, minutes.get(m)! + 1);
    }
    for (const [m, count] of minutes) {
      rows.push([
        `admitted/limit, minute ${new Date(m * 60000).toISOString().slice(11, 16)}`,
        `${(count * cost).toLocaleString('en')} / ${MULTI_TPM.toLocaleString('en')} = ${((count * cost) / MULTI_TPM).toFixed(4)}`,
      ]);
    }
    if (!minutes.size) rows.push(['admitted/limit per window', `no full minute window in ${duration} s`]);
    console.log(table(rows, [58, 40]));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await azurite.close();
  }
}

const STREAMS = Number(process.env.BENCH_STREAMS ?? 2000);
const PACE = { ttftMs: 500, tokens: 100 };
// (clients, inter-token ms): 40 tokens/s per stream, then twice the streams at 20 tokens/s.
// Every token is one write to one socket: 2000 streams at 40 tokens/s (80,000 writes/s) need more
// than the one core a Node process has on this 2-core machine shared with the load generator.
const PACED_RUNS: [number, number][] = [
  [200, 25],
  [1000, 25],
  [STREAMS, 50],
];
const PACED_SECONDS = 15;

/** CPU time (ms) a process has used, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 100 Hz ticks
}

interface StreamTiming {
  started: number;
  firstEvent: number;
  gaps: number[];
  tokens: number;
}

/** One stream over a raw node:http request: when its chunks arrive, tokens counted per chunk. */
function timeStream(url: string, agent: Agent, body: string): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(
      url,
      { method: 'POST', agent, headers: { 'api-key': KEY, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let firstEvent = 0;
        let last = 0;
        let tokens = 0;
        const gaps: number[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const now = performance.now() - started;
          if (!firstEvent) firstEvent = now;
          // Content chunks carry "content":"<token>"; the role chunk's content is "".
          const contentEvents = (chunk.match(/"delta":\{"content":"[^"]/g) ?? []).length;
          if (contentEvents) {
            if (tokens) gaps.push((now - last) / contentEvents);
            tokens += contentEvents;
            last = now;
          }
        });
        res.on('end', () => resolve({ started, firstEvent, gaps, tokens }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

/**
 * A steady population of `users` streaming clients, each starting its next stream when the last
 * ends; starts are spread over one stream's length so the population is reached smoothly. Streams
 * started after the ramp, within the measured seconds, are the ones reported.
 */
async function streamPopulation(url: string, agent: Agent, body: string, users: number, itlMs: number, seconds: number) {
  const streamMs = PACE.ttftMs + (PACE.tokens - 1) * itlMs;
  const measureFrom = performance.now() + streamMs;
  const measureUntil = measureFrom + seconds * 1000;
  const measured: StreamTiming[] = [];
  let peak = 0;
  let inFlight = 0;
  const user = async (delay: number) => {
    await new Promise((r) => setTimeout(r, delay));
    while (performance.now() < measureUntil) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      const timing = await timeStream(url, agent, body);
      inFlight--;
      if (timing.tokens !== PACE.tokens) throw new Error(`a stream delivered ${timing.tokens} of ${PACE.tokens} tokens`);
      if (timing.started >= measureFrom && timing.started < measureUntil) measured.push(timing);
    }
  };
  await Promise.all(Array.from({ length: users }, (_, i) => user((i / users) * streamMs)));
  return { measured, peak };
}

async function pacedStreams(): Promise<boolean> {
  // One deployment per pace, each with its own latency.
  const deployments = Object.fromEntries(PACED_RUNS.map(([, itl]) => [`paced-${itl}`, { model: 'gpt-4o', latency: { ttftMs: PACE.ttftMs, perTokenMs: itl } }]));
  const sim = await startSimulatorProcess({ SIMULATOR_API_KEY: KEY, OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile(deployments) });
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  try {
    const body = JSON.stringify({ messages, max_tokens: PACE.tokens, stream: true });
    await Promise.all(Array.from({ length: 50 }, () => timeStream(sim.url + chatPath(`paced-${PACED_RUNS[0][1]}`), agent, body))); // warm up
    console.log(
      `Paced streams: TTFT ${PACE.ttftMs} ms, ${PACE.tokens} tokens each; a steady population of streaming clients, ` +
        `${PACED_SECONDS} s measured after the ramp\n`,
    );
    const rows = [['streams in flight', 'inter-token', 'streams', 'TTFT mean', 'TTFT p95', 'gap mean', 'gap p95', 'sim CPU/stream', 'within 10%']];
    let ok = true;
    for (const [users, itlMs] of PACED_RUNS) {
      const url = sim.url + chatPath(`paced-${itlMs}`);
      const cpuBefore = cpuMs(sim.process.pid!);
      const clientBefore = process.cpuUsage();
      const wallBefore = performance.now();
      const { measured, peak } = await streamPopulation(url, agent, body, users, itlMs, PACED_SECONDS);
      const cpu = cpuMs(sim.process.pid!) - cpuBefore;
      const client = process.cpuUsage(clientBefore);
      const wall = performance.now() - wallBefore;
      console.log(
        `  ${users} clients: simulator ${((cpu / wall) * 100).toFixed(0)}% of a core, load generator ${(((client.user + client.system) / 1000 / wall) * 100).toFixed(0)}%`,
      );
      const ttft = measured.map((t) => t.firstEvent);
      const gaps = measured.flatMap((t) => t.gaps);
      const ttftMean = ttft.reduce((a, b) => a + b, 0) / ttft.length;
      const gapMean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      const within = Math.abs(ttftMean - PACE.ttftMs) <= PACE.ttftMs * 0.1 && Math.abs(gapMean - itlMs) <= itlMs * 0.1;
      if (!within) ok = false;
      rows.push([
        String(peak),
        `${itlMs} ms`,
        String(measured.length),
        `${ttftMean.toFixed(0)} ms`,
        `${percentile(ttft, 0.95).toFixed(0)} ms`,
        `${gapMean.toFixed(1)} ms`,
        `${percentile(gaps, 0.95).toFixed(1)} ms`,
        `${(cpu / measured.length).toFixed(2)} ms`,
        within ? 'yes' : 'NO',
      ]);
    }
    console.log(table(rows, [18, 12, 8, 10, 9, 9, 8, 15, 10]) + '\n');
    return ok;
  } finally {
    agent.destroy();
    await sim.stop();
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY; // throughput | paced | scale-out
  const ok = !only || only === 'throughput' ? await throughput() : true;
  const paced = !only || only === 'paced' ? await pacedStreams() : true;
  if (!only || only === 'scale-out') await scaleOut();
  if (!ok || !paced) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
