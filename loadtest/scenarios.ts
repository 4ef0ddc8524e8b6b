// The four scenarios a simulator release must pass (the Python simulator's release checklist),
// shared by the local runner (loadtest/run.ts) and the Azure Load Testing plans
// (loadtest/azure/<scenario>/config.yaml, which pass the same deployment, users and max_tokens).

export interface ScenarioResult {
  seconds: number;
  /** Per full minute window (attributed by the server's `created`): admitted requests and charged tokens. */
  minutes: { minute: string; requests: number; tokens: number }[];
  status: Record<string, number>;
  /** Client-side latency (ms) of successful answers. */
  latencies: number[];
  /** Server-side means from /++/metrics (seconds), when the endpoint serves them. */
  server?: { baseLatencyMean?: number; fullLatencyMean?: number };
  /** Every answer: seconds since the start, status, client latency (ms). */
  timeline?: { t: number; status: number; ms: number }[];
  /** Tokens (usage.total_tokens) of the successful answers. */
  usageTokens?: number;
  /** The streaming probe beside the load (loadtest/probe.ts). */
  probe?: import('./probe').ProbeSample[];
}

export interface Criterion {
  name: string;
  /** The figure judged, for the table. */
  measure(r: ScenarioResult): number | undefined;
  pass(value: number): boolean;
  expected: string;
  unit: string;
}

export interface Scenario {
  name: string;
  description: string;
  /** Settings for the simulator the runner starts (an endpoint given with --endpoint keeps its own). */
  env: Record<string, string>;
  deployments: Record<string, unknown>;
  deployment: string;
  maxTokens: number;
  users: number;
  /** Requests per second across all users; undefined: as fast as answers come. */
  rate?: number;
  durationSeconds: number;
  criteria: Criterion[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
const within = (lo: number, hi: number) => (v: number) => v >= lo && v <= hi;
const count429 = (r: ScenarioResult) => r.status['429'] ?? 0;

/**
 * A 100,000 TPM deployment (600 RPM) under 30 users at 100 requests/s: every full minute must
 * land in `range` (lowest and highest alike), with at least 100 429s.
 */
function limitScenario(
  name: string,
  what: string,
  maxTokens: number,
  figure: string,
  perMinute: (m: ScenarioResult['minutes'][number]) => number,
  range: (v: number) => boolean,
  expected: string,
  unit: string,
): Scenario {
  const extreme = (pick: (...xs: number[]) => number) => (r: ScenarioResult) => (r.minutes.length ? pick(...r.minutes.map(perMinute)) : undefined);
  return {
    name,
    description: `A 100,000 TPM deployment (600 RPM), 30 users, ${what}`,
    env: { SIMULATOR_LATENCY: 'off' },
    deployments: { 'gpt-35-turbo-100k-token': { model: 'gpt-35-turbo', tokensPerMinute: 100000 } },
    deployment: 'gpt-35-turbo-100k-token',
    maxTokens,
    users: 30,
    rate: 100,
    durationSeconds: 130,
    criteria: [
      { name: `${figure} (lowest)`, measure: extreme(Math.min), pass: range, expected, unit },
      { name: `${figure} (highest)`, measure: extreme(Math.max), pass: range, expected, unit },
      { name: '429 answers', measure: count429, pass: (v) => v >= 100, expected: '>= 100', unit: '' },
    ],
  };
}

/** The latency scenarios: 20 users on a deployment without limits, 100-token answers, 30 s. */
const LATENCY_RUN = {
  deployments: { 'gpt-35-turbo-unlimited': { model: 'gpt-35-turbo' } },
  deployment: 'gpt-35-turbo-unlimited',
  maxTokens: 100,
  users: 20,
  durationSeconds: 30,
};

export const SCENARIOS: Record<string, Scenario> = {
  'base-latency': {
    name: 'base-latency',
    description: "No added latency, no limits, as fast as possible: the simulator's own processing time.",
    env: { SIMULATOR_LATENCY: 'off' },
    ...LATENCY_RUN,
    criteria: [
      {
        name: 'base latency (mean, server-side)',
        measure: (r) => (r.server?.baseLatencyMean ?? mean(r.latencies)! / 1000) * 1000,
        pass: (v) => v <= 10,
        expected: '<= 10',
        unit: 'ms',
      },
    ],
  },
  'added-latency': {
    name: 'added-latency',
    description: '1 s of simulated latency (10 ms per token, 100 tokens): the mean full latency.',
    env: { LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '10', LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0.5' },
    ...LATENCY_RUN,
    criteria: [
      {
        name: 'full latency (mean)',
        measure: (r) => (r.server?.fullLatencyMean !== undefined ? r.server.fullLatencyMean * 1000 : mean(r.latencies)),
        pass: within(900, 1100),
        expected: '900-1100',
        unit: 'ms',
      },
    ],
  },
  'request-limits': limitScenario(
    'request-limits',
    'max_tokens 10: the request limit binds.',
    10,
    'successful requests per full minute',
    (m) => m.requests,
    within(590, 600),
    '590-600',
    'req/min',
  ),
  'token-limits': limitScenario(
    'token-limits',
    'max_tokens 200: the token limit binds.',
    200,
    'tokens per full minute',
    (m) => m.tokens,
    within(95000, 105000),
    '95,000-105,000',
    'tokens/min',
  ),
};

/** The request every user sends. */
export const chatBody = (s: Scenario) => ({
  messages: [{ role: 'user', content: 'Write a short greeting for the team, please.' }],
  max_tokens: s.maxTokens,
});
