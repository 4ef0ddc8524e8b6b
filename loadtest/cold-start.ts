// `npm run cold-start`: how long a fresh Functions worker takes, as the host would load it: the
// `require` of the built entry, then the first chat answer through its registered handler, both
// from process start, with storage and Application Insights configured (Azurite and a local
// stand-in need not answer for the figures that matter: nothing is awaited from them first).
// Each figure is the median of COLD_START_RUNS fresh processes (default 5).

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const RUNS = Number(process.env.COLD_START_RUNS ?? 5);
const root = join(__dirname, '..', '..');

// Runs in a fresh process: captures app.http registrations, then drives chatCompletions.
const PROBE = `
const started = performance.timeOrigin;
const functions = require('@azure/functions');
const handlers = new Map();
functions.app.http = (name, options) => handlers.set(name, options.handler);
functions.app.setup = () => {};
require(${JSON.stringify(join(root, 'dist', 'functions', 'index.js'))});
const loaded = performance.timeOrigin + performance.now() - started;
const request = new functions.HttpRequest({
  method: 'POST',
  url: 'http://localhost:7071/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
  headers: { 'api-key': 'cold-start-key', 'content-type': 'application/json' },
  body: { string: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], max_tokens: 5 }) },
});
handlers.get('chatCompletions')(request, new functions.InvocationContext({ invocationId: '1', functionName: 'chatCompletions' })).then((res) => {
  const answered = performance.timeOrigin + performance.now() - started;
  console.log(JSON.stringify({ status: res.status, loadedMs: Math.round(loaded), answeredMs: Math.round(answered) }));
  process.exit(0);
});
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const env = {
    ...process.env,
    SIMULATOR_API_KEY: 'cold-start-key',
    SIMULATOR_LATENCY: 'off',
    // Configured as the template configures an instance: storage and telemetry on (nothing listens).
    AzureWebJobsStorage:
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;',
    APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/',
  };
  const runs = Array.from({ length: RUNS }, () =>
    JSON.parse(execFileSync(process.execPath, ['-e', PROBE], { env, cwd: root }).toString().trim().split('\n').at(-1)!),
  );
  if (runs.some((r) => r.status !== 200)) throw new Error(`a cold answer was not 200: ${JSON.stringify(runs)}`);
  const loaded = median(runs.map((r) => r.loadedMs));
  const answered = median(runs.map((r) => r.answeredMs));
  console.log(
    `Functions cold start (median of ${RUNS}, Node ${process.version}): entry loaded ${loaded} ms, first chat answer ${answered} ms after process start`,
  );
  console.log(answered <= 1000 ? 'PASS: first answer within 1 s' : 'ABOVE the 1 s goal');
}

main();
