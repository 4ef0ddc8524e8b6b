// Table Storage outages, for real: Azurite in its own process is SIGSTOPped, then killed, then
// started again empty on the same port, while simulators failing closed and open are under load.
// Every request is answered within the store timeout plus a margin, as each setting says; shared
// counting resumes within seconds of the store's return; no window is exceeded.

import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentsFile, type ServerProcess, startProcess, startSimulatorProcess } from '../loadtest/processes';
import { API_VERSION, KEY } from './helpers';

const STORE_TIMEOUT_MS = 1000;
// The bound on any answer during an outage: the store timeout plus a margin for a busy machine.
// Before the outage breaker, answers waited the whole outage (10-23 s).
const ANSWER_BOUND_MS = STORE_TIMEOUT_MS + 2500;
// Requests per minute: 100 per 10 s window, 10 per second window.
const RPM = 600;
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

let port = 0;
let azurite: ServerProcess;
let closed: ServerProcess[] = [];
let open: ServerProcess;

const startAzurite = () => startProcess([join(__dirname, '..', 'dist', 'loadtest', 'azurite-process.js')], { AZURITE_PORT: String(port) });

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as { port: number };
      probe.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  port = await freePort();
  azurite = await startAzurite();
  const env = {
    SIMULATOR_API_KEY: KEY,
    SIMULATOR_LATENCY: 'off',
    OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({
      shut: { model: 'gpt-4o', tokensPerMinute: 100000000, requestsPerMinute: RPM },
      free: { model: 'gpt-4o', tokensPerMinute: 100000000, requestsPerMinute: RPM },
    }),
    AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${ACCOUNT_KEY};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
    RATE_LIMIT_TABLE: 'outage',
    RATE_LIMIT_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
  };
  [closed, open] = await Promise.all([
    Promise.all([1, 2].map(() => startSimulatorProcess({ ...env, RATE_LIMIT_STORE_FAILURE: 'closed' }))),
    startSimulatorProcess({ ...env, RATE_LIMIT_STORE_FAILURE: 'open' }),
  ]);
}, 60000);

afterAll(async () => {
  await Promise.all([...closed, open].filter(Boolean).map((s) => s.stop()));
  azurite?.process.kill('SIGKILL');
});

interface Answer {
  setting: 'closed' | 'open';
  sentAt: number;
  ms: number;
  status: number;
  retryAfterMs: number;
  created: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Load until `end.at` (which may move while it runs). */
async function load(end: { at: number }): Promise<Answer[]> {
  const answers: Answer[] = [];
  const worker = async (server: ServerProcess, setting: Answer['setting']) => {
    const deployment = setting === 'closed' ? 'shut' : 'free';
    while (Date.now() < end.at) {
      const sentAt = Date.now();
      const res = await fetch(`${server.url}/openai/deployments/${deployment}/chat/completions?api-version=${API_VERSION}`, {
        method: 'POST',
        headers: { 'api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
      });
      const body = (await res.json()) as { created?: number };
      const retryAfterMs = Number(res.headers.get('retry-after-ms') ?? 0);
      answers.push({ setting, sentAt, ms: Date.now() - sentAt, status: res.status, retryAfterMs, created: body.created ?? 0 });
      // Over the limit, clients pace themselves a little, as the SDKs do.
      if (res.status === 429) await sleep(Math.min(50, retryAfterMs));
    }
  };
  await Promise.all([...closed.flatMap((s) => [worker(s, 'closed'), worker(s, 'closed')]), worker(open, 'open'), worker(open, 'open'), worker(open, 'open')]);
  return answers;
}

/** Admitted requests per window of `seconds`, over windows that do not touch [from, to). */
function windowsOutside(answers: Answer[], seconds: number, spans: [number, number][]): number[] {
  const counts = new Map<number, number>();
  for (const a of answers) {
    if (a.status !== 200) continue;
    const w = Math.floor(a.created / seconds) * seconds;
    const touches = spans.some(([from, to]) => w * 1000 < to && (w + seconds) * 1000 > from);
    if (!touches) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts.values()];
}

describe('rate-limit store outages (Azurite stopped, killed, restarted empty)', () => {
  it('answers within the store timeout, as each failure setting says, and resumes shared counting', async () => {
    const end = { at: Infinity };
    const run = load(end);
    // Per outage: when it began, when the store was last surely out, and when it was back. A
    // restart takes its process's start-up between the last two (seconds on a busy machine).
    const phases: Record<string, [from: number, downUntil: number, to: number]> = {};
    await sleep(4000);
    azurite.process.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await sleep(6000);
    azurite.process.kill('SIGCONT');
    phases.stopped = [stoppedAt, Date.now(), Date.now()];
    await sleep(5000);
    azurite.process.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(5000);
    const restarting = Date.now();
    azurite = await startAzurite();
    phases.killed = [killedAt, restarting, Date.now()];
    // Six more seconds after the empty restart, however long the restart took.
    end.at = Date.now() + 6000;
    const answers = await run;

    const closedAnswers = answers.filter((a) => a.setting === 'closed');
    const openAnswers = answers.filter((a) => a.setting === 'open');
    expect(answers.filter((a) => a.status !== 200 && a.status !== 429)).toEqual([]);

    for (const [name, [from, downUntil, to]] of Object.entries(phases)) {
      // Sent once the first store call has timed out and the outage is known, and answered while
      // the store was still out (a request waiting on a probe when the store returns is admitted).
      const during = (list: Answer[]) => list.filter((a) => a.sentAt >= from + STORE_TIMEOUT_MS + 500 && a.sentAt + a.ms < downUntil - 200);
      const slowest = Math.max(...during(answers).map((a) => a.ms));
      console.log(
        `outage ${name} ${downUntil - from} ms (back ${to - downUntil} ms later): closed ${during(closedAnswers).length} answers (${during(closedAnswers).filter((a) => a.status === 429).length} 429), open ${during(openAnswers).length} (${during(openAnswers).filter((a) => a.status === 200).length} 200); slowest of all ${slowest} ms`,
      );
      // Every request sent in the outage is answered within the bound, not held for it.
      for (const a of answers.filter((x) => x.sentAt >= from && x.sentAt < to))
        expect(a.ms, `${name}: ${a.setting} answer`).toBeLessThanOrEqual(ANSWER_BOUND_MS);
      // closed: 429 with a short retry; open: admitted.
      expect(during(closedAnswers).length).toBeGreaterThan(5);
      for (const a of during(closedAnswers)) {
        expect(a.status, `${name}: closed answer sent ${a.sentAt - from} ms into the outage, answered in ${a.ms} ms, created ${a.created * 1000 - from}`).toBe(
          429,
        );
        expect(a.retryAfterMs).toBeLessThanOrEqual(1000);
      }
      expect(during(openAnswers).length).toBeGreaterThan(5);
      for (const a of during(openAnswers)) expect(a.status).toBe(200);

      // Shared counting resumes: closed instances admit again, and the open one is held to the limit again.
      const firstAdmitted = closedAnswers.find((a) => a.sentAt >= to && a.status === 200);
      const firstHeld = openAnswers.find((a) => a.sentAt >= to && a.status === 429);
      console.log(
        `after ${name}: closed admits again at +${firstAdmitted && firstAdmitted.sentAt - to} ms, open is limited again at +${firstHeld && firstHeld.sentAt - to} ms`,
      );
      // "Within a second or two" of the return; generous for a busy machine.
      expect(firstAdmitted && firstAdmitted.sentAt - to).toBeLessThanOrEqual(4000);
      expect(firstHeld && firstHeld.sentAt - to).toBeLessThanOrEqual(4000);
    }

    // No window is exceeded. Failing closed, none at all except the one in which the store came
    // back empty (its count was lost with the table); failing open, none outside the outages.
    const restart: [number, number] = [phases.killed[1] - 1000, phases.killed[2] + 1000];
    const outages: [number, number][] = [
      [phases.stopped[0], phases.stopped[2] + 4000],
      [phases.killed[0], phases.killed[2] + 4000],
    ];
    for (const [list, spans] of [
      [closedAnswers, [restart]],
      [openAnswers, outages],
    ] as const) {
      const tenSecond = windowsOutside(list, 10, [...spans]);
      const oneSecond = windowsOutside(list, 1, [...spans]);
      expect(oneSecond.length).toBeGreaterThan(3);
      for (const n of tenSecond) expect(n).toBeLessThanOrEqual(RPM / 6);
      for (const n of oneSecond) expect(n).toBeLessThanOrEqual(RPM / 60);
    }
  }, 90000);
});
