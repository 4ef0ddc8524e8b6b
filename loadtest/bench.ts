// `npm run bench`: requests/s of the simulator against a bare node:http server returning a fixed
// JSON, side by side in one run under the same load generator (autocannon), printed as ratios.
// Servers run in child processes (one core), the load generator here (the other core).
//
//   BENCH_SECONDS   measured seconds per scenario (default 8), after a 2 s warm-up
//   BENCH_CONNECTIONS  concurrent connections (default 50)

import autocannon from 'autocannon';
import { startProcess, startSimulatorProcess } from './processes';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEY = 'bench-key';

// The baseline: a fixed JSON about the size of a short chat completion, with no work per request.
const BARE_SERVER = `
const body = JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, this is a fixed answer of about twenty tokens long for the baseline server.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29 } });
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); });
});
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`;

interface Scenario { name: string; path: string; body?: unknown }

async function measure(url: string, scenario: Scenario): Promise<number> {
  const options = {
    url: url + scenario.path,
    connections: CONNECTIONS,
    method: scenario.body ? 'POST' as const : 'GET' as const,
    headers: { 'api-key': KEY, 'content-type': 'application/json' },
    body: scenario.body ? JSON.stringify(scenario.body) : undefined,
  };
  await autocannon({ ...options, duration: 2 });
  const result = await autocannon({ ...options, duration: SECONDS });
  if (result.non2xx || result.errors) throw new Error(`${scenario.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

const V = '?api-version=2024-10-21';
const messages = [{ role: 'user', content: 'Write a short greeting for the team.' }];
const SCENARIOS: (Scenario & { target: number })[] = [
  { name: 'chat, non-streaming (20 tokens)', path: `/openai/deployments/gpt-4o/chat/completions${V}`, body: { messages, max_tokens: 20 }, target: 0.35 },
  { name: 'chat, streaming (20 tokens)', path: `/openai/deployments/gpt-4o/chat/completions${V}`, body: { messages, max_tokens: 20, stream: true }, target: 0.2 },
  { name: 'embeddings (ada-002, base64)', path: `/openai/deployments/text-embedding-ada-002/embeddings${V}`, body: { input: 'The quick brown fox', encoding_format: 'base64' }, target: 0 },
];

async function main(): Promise<void> {
  const bare = await startProcess(['-e', BARE_SERVER]);
  const sim = await startSimulatorProcess({ SIMULATOR_API_KEY: KEY });
  try {
    console.log(`${CONNECTIONS} connections, ${SECONDS} s per run (after 2 s warm-up), Node ${process.version}\n`);
    const bareBefore = await measure(bare.url, { name: 'bare', path: '/', body: { messages } });
    const rows: string[][] = [];
    let failed = false;
    for (const s of SCENARIOS) {
      const rps = await measure(sim.url, s);
      const ratio = rps / bareBefore;
      const verdict = s.target ? (ratio >= s.target ? `>= ${s.target} ok` : `< ${s.target} BELOW TARGET`) : '';
      if (s.target && ratio < s.target) failed = true;
      rows.push([s.name, rps.toFixed(0), ratio.toFixed(2) + 'x', verdict]);
    }
    const bareAfter = await measure(bare.url, { name: 'bare', path: '/', body: { messages } });
    console.log(`bare node:http fixed JSON: ${bareBefore.toFixed(0)} req/s before, ${bareAfter.toFixed(0)} req/s after (ratios use 'before')\n`);
    const widths = [34, 10, 8, 20];
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' ');
    console.log(line(['scenario', 'req/s', 'ratio', 'target']));
    for (const r of rows) console.log(line(r));
    if (failed) process.exitCode = 1;
  } finally {
    await Promise.all([bare.stop(), sim.stop()]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
