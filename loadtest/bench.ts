// `npm run bench`: the simulator against a bare node:http server returning a fixed JSON, side by
// side in one run under the same load generator (autocannon), printed as ratios. Servers run in
// child processes, the load generator here.
//
// 1. Throughput: chat (non-streaming, streaming), embeddings, the 429 path, and a replayed
//    recording (replay mode, no waiting), as ratios to bare.
// 2. Scale-out: three simulator processes sharing one Table Storage (Azurite, in this process) at
//    10M TPM with demand above it: requests/s, storage operations per admitted request, and
//    admitted tokens / limit per full minute window.
//
//   BENCH_SECONDS        measured seconds per throughput scenario (default 8, after a 2 s warm-up)
//   BENCH_CONNECTIONS    concurrent connections (default 50)
//   BENCH_MULTI_SECONDS  length of the scale-out run (default: until one full minute window is in)

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startAzuriteTables } from './azurite';
import { startProcess, startSimulatorProcess } from './processes';
import { bodyHash, serialiseRecordingFile } from '../src/recordings/format';

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

interface Scenario { name: string; path: string; body?: unknown; expect?: number; target?: number; replay?: boolean }

const request = (url: string, s: Scenario, connections = CONNECTIONS) => ({
  url: url + s.path,
  connections,
  method: s.body ? 'POST' as const : 'GET' as const,
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
  { name: 'chat, non-streaming (20 tokens)', path: chatPath('gpt-4o'), body: { messages, max_tokens: 20 }, target: 0.35 },
  { name: 'chat, streaming (20 tokens)', path: chatPath('gpt-4o'), body: { messages, max_tokens: 20, stream: true }, target: 0.2 },
  { name: 'embeddings (ada-002, base64)', path: `/openai/deployments/text-embedding-ada-002/embeddings${V}`, body: { input: 'The quick brown fox', encoding_format: 'base64' } },
  { name: '429 path (limit spent)', path: chatPath('throttled'), body: { messages, max_tokens: 20 }, expect: 429, target: 0.6 },
  { name: 'replay hit (chat, recorded)', path: chatPath('gpt-4o'), body: { messages, max_tokens: 20 }, replay: true },
];

/** A recording folder holding the replay scenario's exchange, as record mode would have saved it. */
function recordingDir(s: Scenario): string {
  const dir = mkdtempSync(join(tmpdir(), 'aoai-bench-rec-'));
  const body = JSON.stringify(s.body);
  const answer = {
    id: 'chatcmpl-recorded', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello team, a recorded greeting of about twenty tokens for the replay benchmark run.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 16, completion_tokens: 20, total_tokens: 36 },
  };
  writeFileSync(join(dir, 'openai_deployments_gpt-4o_chat_completions.yaml'), serialiseRecordingFile([{
    request: { method: 'POST', uri: `http://localhost${s.path}`, headers: { 'content-type': ['application/json'] }, body, body_hash: bodyHash(body, 'application/json') },
    response: { status: { code: 200 }, headers: { 'content-type': ['application/json'] }, body: { string: JSON.stringify(answer) }, duration_ms: 900 },
    context_values: {},
  }]));
  return dir;
}

const table = (rows: string[][], widths: number[]) => rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join(' ')).join('\n');

function deploymentsFile(deployments: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'aoai-bench-')), 'deployments.json');
  writeFileSync(file, JSON.stringify(deployments));
  return file;
}

async function throughput(): Promise<boolean> {
  const bareServer = await startProcess(['-e', BARE_SERVER]);
  // 'throttled' has one request per 10 s: after the first, every request is a 429.
  const sim = await startSimulatorProcess({
    SIMULATOR_API_KEY: KEY, SIMULATOR_LATENCY: 'off',
    OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({ throttled: { model: 'gpt-4o', tokensPerMinute: 1000, requestsPerMinute: 6 } }),
  });
  const replayScenario = SCENARIOS.find((s) => s.replay)!;
  const replaySim = await startSimulatorProcess({
    SIMULATOR_API_KEY: KEY, SIMULATOR_MODE: 'replay', RECORDING_DIR: recordingDir(replayScenario), RECORDING_TIME_FACTOR: '0',
  });
  try {
    console.log(`Throughput: ${CONNECTIONS} connections, ${SECONDS} s per run after a 2 s warm-up, Node ${process.version}\n`);
    const bareScenario = { name: 'bare', path: '/', body: { messages } };
    // The load generator itself needs warming (JIT) before its first measured run.
    await autocannon({ ...request(bareServer.url, bareScenario), duration: 5 });
    const bareBefore = await measure(bareServer.url, bareScenario);
    const measured: [Scenario, number][] = [];
    for (const s of SCENARIOS) {
      if (s.expect === 429) await fetch(sim.url + s.path, { method: 'POST', headers: { 'api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify(s.body) });
      measured.push([s, await measure(s.replay ? replaySim.url : sim.url, s)]);
    }
    const bareAfter = await measure(bareServer.url, bareScenario);
    const bare = (bareBefore + bareAfter) / 2;
    const rows = [['scenario', 'req/s', 'ratio', 'target']];
    let ok = true;
    for (const [s, rps] of measured) {
      const ratio = rps / bare;
      if (s.target && ratio < s.target) ok = false;
      rows.push([s.name, rps.toFixed(0), ratio.toFixed(2) + 'x', s.target ? `${ratio >= s.target ? '>=' : 'BELOW'} ${s.target}x` : '']);
    }
    console.log(`bare node:http fixed JSON: ${bareBefore.toFixed(0)} req/s before, ${bareAfter.toFixed(0)} req/s after; ratios use their mean, ${bare.toFixed(0)}\n`);
    console.log(table(rows, [34, 10, 8, 14]) + '\n');
    return ok;
  } finally {
    await Promise.all([bareServer.stop(), sim.stop(), replaySim.stop()]);
  }
}

async function scaleOut(): Promise<void> {
  const azurite = await startAzuriteTables();
  const env = {
    SIMULATOR_API_KEY: KEY, SIMULATOR_LATENCY: 'off',
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
    OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({ big: { model: 'gpt-4o', tokensPerMinute: MULTI_TPM, requestsPerMinute: 100_000_000 } }),
  };
  const servers = await Promise.all([1, 2, 3].map(() => startSimulatorProcess(env)));
  try {
    const body = { messages: [{ role: 'user', content: 'Count to ten' }], max_tokens: MULTI_MAX_TOKENS };
    const probe = await fetch(servers[0].url + chatPath('big'), { method: 'POST', headers: { 'api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) });
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
    const results = await Promise.all(servers.map((s) => {
      const { url, ...options } = request(s.url, { name: 'big', path: chatPath('big'), body }, Math.ceil(CONNECTIONS / 3));
      return autocannon({ ...options, url, duration, requests: [{ method: 'POST', body: options.body, headers: options.headers, onResponse }] });
    }));
    const end = Date.now();
    const ops = azurite.requests - opsBefore;
    const total = results.reduce((sum, r) => sum + r.requests.total, 0);
    const seconds = (end - start) / 1000;
    console.log(`Scale-out: 3 processes sharing Azurite Table Storage, deployment at ${MULTI_TPM.toLocaleString('en')} TPM, ${cost} tokens per request, ${duration} s\n`);
    const rows = [['requests/s (all answers)', (total / seconds).toFixed(0)],
      ['admitted requests/s', (admittedAt.length / seconds).toFixed(0)],
      ['429s', String(rejected)],
      ['storage operations', String(ops)],
      ['storage operations per admitted request', (ops / Math.max(1, admittedAt.length)).toFixed(4)]];
    const minutes = new Map<number, number>();
    for (let m = Math.ceil(start / 60000); (m + 1) * 60000 <= end; m++) minutes.set(m, 0);
    for (const t of admittedAt) { const m = Math.floor(t / 60000); if (minutes.has(m)) minutes.set(m, minutes.get(m)! + 1); }
    for (const [m, count] of minutes) {
      rows.push([`admitted/limit, minute ${new Date(m * 60000).toISOString().slice(11, 16)}`, `${(count * cost).toLocaleString('en')} / ${MULTI_TPM.toLocaleString('en')} = ${((count * cost) / MULTI_TPM).toFixed(4)}`]);
    }
    if (!minutes.size) rows.push(['admitted/limit per window', `no full minute window in ${duration} s`]);
    console.log(table(rows, [58, 40]));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await azurite.close();
  }
}

async function main(): Promise<void> {
  const ok = await throughput();
  await scaleOut();
  if (!ok) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
