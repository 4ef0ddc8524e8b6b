// `npm run loadtest -- <scenario> [--duration s] [--endpoint URL --key KEY]`: one of the four
// release scenarios against a simulator on 127.0.0.1 (started here, or the one --endpoint names),
// under autocannon, with a streaming probe beside it. Prints a live progress line, a latency
// histogram and a pass/fail table against the scenario's criteria, and writes an HTML report
// (--report FILE; default loadtest-<scenario>.html); exits 1 when a criterion fails.

import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startProbe } from './probe';
import { deploymentsFile, startSimulatorProcess, type ServerProcess } from './processes';
import { benchmarkFigures, writeReport } from './report';
import { chatBody, SCENARIOS, type Scenario, type ScenarioResult } from './scenarios';

const API_VERSION = '2024-10-21';

/** Sum and count of a histogram in /++/metrics for one deployment's 200s, or undefined without metrics. */
async function serverHistogram(url: string, key: string, metric: string, deployment: string): Promise<{ sum: number; count: number } | undefined> {
  try {
    const res = await fetch(`${url}/++/metrics`, { headers: { 'api-key': key } });
    if (!res.ok) return undefined;
    const text = await res.text();
    const value = (suffix: string) => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`${metric}_${suffix}{`) && l.includes(`deployment="${deployment}"`) && l.includes('status_code="200"'));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    };
    return { sum: value('sum'), count: value('count') };
  } catch {
    return undefined;
  }
}

async function serverMean(url: string, key: string, metric: string, deployment: string, before?: { sum: number; count: number }): Promise<number | undefined> {
  const after = await serverHistogram(url, key, metric, deployment);
  if (!after || !before) return undefined;
  const count = after.count - before.count;
  return count > 0 ? (after.sum - before.sum) / count : undefined;
}

const BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, Infinity];

/** A text histogram of latencies (ms), one bar per bucket. */
export function histogram(latencies: number[], width = 50): string {
  const counts = BUCKETS.map(() => 0);
  for (const l of latencies) counts[BUCKETS.findIndex((b) => l <= b)]++;
  const most = Math.max(1, ...counts);
  const first = counts.findIndex((c) => c > 0);
  const last = counts.length - 1 - [...counts].reverse().findIndex((c) => c > 0);
  if (first < 0) return '(no successful answers)';
  const lines: string[] = [];
  for (let i = first; i <= last; i++) {
    const label = `${i ? BUCKETS[i - 1] : 0}-${BUCKETS[i] === Infinity ? '' : BUCKETS[i]} ms`;
    lines.push(`${label.padStart(14)} | ${'#'.repeat(Math.round((counts[i] / most) * width)).padEnd(width)} ${counts[i]}`);
  }
  return lines.join('\n');
}

const percentile = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
};

export async function runScenario(
  scenario: Scenario,
  options: { seconds?: number; endpoint?: string; key?: string; quiet?: boolean } = {},
): Promise<{ result: ScenarioResult; passed: boolean; report: string }> {
  const key = options.key ?? 'loadtest-key';
  let sim: ServerProcess | undefined;
  let url = options.endpoint?.replace(/\/+$/, '');
  if (!url) {
    sim = await startSimulatorProcess({ SIMULATOR_API_KEY: key, OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile(scenario.deployments), ...scenario.env });
    url = sim.url;
  }
  const seconds = options.seconds ?? scenario.durationSeconds;
  const path = `/openai/deployments/${scenario.deployment}/chat/completions?api-version=${API_VERSION}`;
  const body = JSON.stringify(chatBody(scenario));
  const headers = { 'api-key': key, 'content-type': 'application/json' };
  try {
    // Warm up (tokenizer, JIT), outside the measurement.
    await (await fetch(url + path, { method: 'POST', headers, body: JSON.stringify({ ...chatBody(scenario), max_tokens: 1 }) })).text();
    const baseBefore = await serverHistogram(url, key, 'aoai_api_simulator_latency_base', scenario.deployment);
    const fullBefore = await serverHistogram(url, key, 'aoai_api_simulator_latency_full', scenario.deployment);

    const admitted: { at: number; tokens: number }[] = [];
    const timeline: NonNullable<ScenarioResult['timeline']> = [];
    let usageTokens = 0;
    const status: Record<string, number> = {};
    const latencies: number[] = [];
    const started = Date.now();
    const probe = startProbe(url + path, headers, chatBody(scenario), started);
    const instance = (autocannon as unknown as (o: autocannon.Options) => autocannon.Instance & Promise<autocannon.Result>)({
      url: url + path,
      connections: scenario.users,
      duration: seconds,
      ...(scenario.rate ? { overallRate: scenario.rate } : {}),
      requests: [
        {
          method: 'POST',
          headers,
          body,
          onResponse: (code: number, responseBody: string) => {
            if (code !== 200) return;
            const created = Number(/"created":(\d+)/.exec(responseBody)?.[1]);
            const prompt = Number(/"prompt_tokens":(\d+)/.exec(responseBody)?.[1] ?? 0);
            usageTokens += Number(/"total_tokens":(\d+)/.exec(responseBody)?.[1] ?? 0);
            // The admission charge: prompt tokens + max_tokens (the aoai cost model).
            admitted.push({ at: created * 1000, tokens: prompt + scenario.maxTokens });
          },
        },
      ],
    });
    instance.on('response', (_client: unknown, code: number, _bytes: number, ms: number) => {
      status[code] = (status[code] ?? 0) + 1;
      timeline.push({ t: (Date.now() - started) / 1000, status: code, ms });
      if (code === 200) latencies.push(ms);
    });
    const progress = setInterval(() => {
      if (options.quiet) return;
      const elapsed = (Date.now() - started) / 1000;
      const line =
        `${scenario.name}: ${elapsed.toFixed(0)}/${seconds} s, ${Object.values(status).reduce((a, b) => a + b, 0)} answers, ` +
        `${status['200'] ?? 0} ok, ${status['429'] ?? 0} 429, p50 ${percentile(latencies, 0.5).toFixed(0)} ms`;
      if (process.stdout.isTTY) process.stdout.write(`\r${line}   `);
      else if (Math.round(elapsed) % 10 === 0) console.log(line);
    }, 1000);
    await instance;
    const probed = await probe.stop();
    clearInterval(progress);
    if (process.stdout.isTTY && !options.quiet) process.stdout.write('\n');
    const ended = Date.now();

    const minutes: ScenarioResult['minutes'] = [];
    for (let m = Math.ceil(started / 60000); (m + 1) * 60000 <= ended; m++) {
      const inMinute = admitted.filter((a) => Math.floor(a.at / 60000) === m);
      minutes.push({ minute: new Date(m * 60000).toISOString().slice(11, 16), requests: inMinute.length, tokens: inMinute.reduce((s, a) => s + a.tokens, 0) });
    }
    const result: ScenarioResult = {
      seconds: (ended - started) / 1000,
      minutes,
      status,
      latencies,
      timeline,
      usageTokens,
      probe: probed,
      server: {
        baseLatencyMean: await serverMean(url, key, 'aoai_api_simulator_latency_base', scenario.deployment, baseBefore),
        fullLatencyMean: await serverMean(url, key, 'aoai_api_simulator_latency_full', scenario.deployment, fullBefore),
      },
    };
    return { result, ...judge(scenario, result) };
  } finally {
    await sim?.stop();
  }
}

/** The figures azure-openai-benchmark prints, for the same run. */
function benchmarkLine(r: ScenarioResult): string {
  const f = benchmarkFigures(r);
  const ms = (v?: number) => (v === undefined ? 'n/a' : `${v.toFixed(1)} ms`);
  return (
    `rpm ${f.rpm.toFixed(1)}, tpm ${f.tpm.toFixed(0)}, ttft avg ${ms(f.ttftAvg)} p95 ${ms(f.ttftP95)}, ` +
    `tbt avg ${ms(f.tbtAvg)} p95 ${ms(f.tbtP95)}, e2e avg ${ms(f.e2eAvg)} p95 ${ms(f.e2eP95)}, throttled ${f.throttled}`
  );
}

function judge(scenario: Scenario, r: ScenarioResult): { passed: boolean; report: string } {
  const rows = [['criterion', 'measured', 'expected', 'result']];
  let passed = true;
  for (const c of scenario.criteria) {
    const value = c.measure(r);
    const ok = value !== undefined && Number.isFinite(value) && c.pass(value);
    if (!ok) passed = false;
    rows.push([
      c.name,
      value === undefined || !Number.isFinite(value) ? 'n/a' : `${Math.round(value * 10) / 10} ${c.unit}`.trim(),
      `${c.expected} ${c.unit}`.trim(),
      ok ? 'PASS' : 'FAIL',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const table = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
  const total = Object.values(r.status).reduce((a, b) => a + b, 0);
  const lines = [
    `${scenario.name}: ${scenario.description}`,
    `${total} answers in ${r.seconds.toFixed(0)} s (${Object.entries(r.status)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}); ` + `client latency of 200s p50 ${percentile(r.latencies, 0.5).toFixed(1)} ms, p95 ${percentile(r.latencies, 0.95).toFixed(1)} ms`,
    benchmarkLine(r),
    ...(r.minutes.length
      ? ['per full minute: ' + r.minutes.map((m) => `${m.minute} ${m.requests} req / ${m.tokens.toLocaleString('en')} tokens`).join('; ')]
      : []),
    '',
    'latency of successful answers (client side):',
    histogram(r.latencies),
    '',
    table,
    '',
    passed ? 'PASS' : 'FAIL',
  ];
  return { passed, report: lines.join('\n') };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { duration: { type: 'string' }, endpoint: { type: 'string' }, key: { type: 'string' }, report: { type: 'string' } },
  });
  const scenario = SCENARIOS[positionals[0] ?? ''];
  if (!scenario) {
    console.error(`usage: npm run loadtest -- <${Object.keys(SCENARIOS).join('|')}> [--duration seconds] [--endpoint URL --key KEY] [--report FILE]`);
    process.exit(2);
  }
  if (values.endpoint && !values.key) {
    console.error('--endpoint needs --key (the simulator key of that endpoint)');
    process.exit(2);
  }
  const seconds = values.duration ? Number(values.duration) : undefined;
  if (seconds !== undefined && !(seconds > 0)) {
    console.error('--duration must be a number of seconds > 0');
    process.exit(2);
  }
  const { passed, report, result } = await runScenario(scenario, { seconds, endpoint: values.endpoint, key: values.key });
  console.log(report);
  const file = values.report ?? `loadtest-${scenario.name}.html`;
  writeReport(file, scenario, result, passed, report);
  console.log(`report: ${file}`);
  process.exitCode = passed ? 0 : 1;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
