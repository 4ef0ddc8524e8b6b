// `npm run stall`: the fuzz corpus (loadtest/fuzz-corpus.ts) and three 1 MB prompts sent one request at a time to a
// simulator process while GET / is timed every 10 ms beside it: the slowest GET / is the longest
// event-loop stall any one request caused (the goal: under 100 ms on the 2-core machine).
//   STALL_REQUESTS  corpus size (default 2000)

import { fuzzCorpus } from './fuzz-corpus';
import { startSimulatorProcess } from './processes';

const COUNT = Number(process.env.STALL_REQUESTS ?? 2000);

async function main(): Promise<void> {
  const sim = await startSimulatorProcess({ SIMULATOR_API_KEY: 'fuzz-key', SIMULATOR_LATENCY: 'off' });
  const corpus = fuzzCorpus(COUNT, 20261201);
  // And the long inputs counting once stalled on: a megabyte of one run, of base64, of words.
  const json = { 'api-key': 'fuzz-key', 'content-type': 'application/json' };
  const huge = (path: string, body: object) => ({ method: 'POST', path, headers: json, body: JSON.stringify(body) });
  corpus.push(
    huge('/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', { messages: [{ role: 'user', content: 'A'.repeat(1_000_000) }], max_tokens: 1 }),
    huge('/openai/deployments/gpt-35-turbo-instruct/completions?api-version=2024-10-21', {
      prompt: Buffer.alloc(750_000, 7).toString('base64'),
      max_tokens: 1,
    }),
    huge('/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21', { input: 'hello world '.repeat(85_000) }),
  );
  // What was sent while each probe waited: the stall's cause is among them.
  const sent: { at: number; what: string }[] = [];
  let worst = { ms: 0, during: [] as string[] };
  const pings: number[] = [];
  let running = true;
  const pinger = (async () => {
    while (running) {
      const started = performance.now();
      await fetch(`${sim.url}/`).then((r) => r.arrayBuffer());
      const ended = performance.now();
      const ms = ended - started;
      pings.push(ms);
      if (ms > worst.ms) worst = { ms, during: sent.filter((s) => s.at >= started - 50 && s.at <= ended).map((s) => s.what) };
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    for (const request of corpus) {
      sent.push({ at: performance.now(), what: `${request.method} ${request.path.slice(0, 90)} ${String(request.body ?? '').slice(0, 160)}` });
      await fetch(sim.url + request.path, { method: request.method, headers: request.headers, body: request.body as BodyInit | undefined })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    }
  } finally {
    running = false;
    await pinger;
    await sim.stop();
  }
  pings.sort((a, b) => a - b);
  const p99 = pings[Math.floor(pings.length * 0.99)];
  console.log(
    `${COUNT} fuzz requests, ${pings.length} GET / probes: p99 ${p99.toFixed(1)} ms, longest ${worst.ms.toFixed(1)} ms ), during:\n  ${worst.during.join('\n  ')}`,
  );
  console.log(worst.ms < 100 ? 'PASS: no request stalled the event loop for 100 ms' : 'ABOVE the 100 ms goal');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
