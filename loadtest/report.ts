// The HTML report `npm run loadtest` writes beside its text output: one self-contained file (the
// data and uPlot inlined) with azure-openai-benchmark's figures (rpm, tpm, ttft/tbt/e2e avg and
// p95, throttled), and charts over time of TTFT and time between tokens (the streaming probe),
// end-to-end latency and status codes, and each full minute's tokens and requests against the limit.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProbeSample } from './probe';
import type { Scenario, ScenarioResult } from './scenarios';

export interface Figures {
  rpm: number;
  tpm: number;
  ttftAvg?: number;
  ttftP95?: number;
  tbtAvg?: number;
  tbtP95?: number;
  e2eAvg?: number;
  e2eP95?: number;
  throttled: number;
}

const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
const p95 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] : undefined);

/** azure-openai-benchmark's summary figures for a run: per minute of the run, and latencies in ms. */
export function benchmarkFigures(r: ScenarioResult): Figures {
  const minutes = r.seconds / 60;
  const ok = (r.probe ?? []).filter((p) => p.status === 200);
  const ttft = ok.flatMap((p) => (p.ttftMs === undefined ? [] : [p.ttftMs]));
  const tbt = ok.flatMap((p) => (p.tbtMs === undefined ? [] : [p.tbtMs]));
  return {
    rpm: (r.status['200'] ?? 0) / minutes,
    tpm: (r.usageTokens ?? 0) / minutes,
    ttftAvg: avg(ttft),
    ttftP95: p95(ttft),
    tbtAvg: avg(tbt),
    tbtP95: p95(tbt),
    e2eAvg: avg(r.latencies),
    e2eP95: p95(r.latencies),
    throttled: r.status['429'] ?? 0,
  };
}

const uplotFile = (name: string) => readFileSync(join(dirname(require.resolve('uplot/dist/uPlot.iife.min.js')), name), 'utf8');
// Inlined JSON must not close the script element.
const scriptSafe = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function reportHtml(scenario: Scenario, r: ScenarioResult, passed: boolean, criteria: string): string {
  const limits = scenario.deployments[scenario.deployment] as { tokensPerMinute?: number; requestsPerMinute?: number } | undefined;
  const data = {
    scenario: { name: scenario.name, description: scenario.description, users: scenario.users, maxTokens: scenario.maxTokens },
    passed,
    figures: benchmarkFigures(r),
    timeline: r.timeline ?? [],
    probe: r.probe ?? ([] as ProbeSample[]),
    minutes: r.minutes,
    limits: {
      tokensPerMinute: limits?.tokensPerMinute ?? null,
      requestsPerMinute: limits?.requestsPerMinute ?? (limits?.tokensPerMinute ? (6 * limits.tokensPerMinute) / 1000 : null),
    },
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Load test: ${scenario.name}</title>
<style>${uplotFile('uPlot.min.css')}
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1b1b1f; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid #d0d0d7; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1rem; }
.pass { color: #107c10; } .fail { color: #a4262c; } pre { background: #f3f3f5; padding: .75rem; overflow-x: auto; }
</style></head>
<body>
<h1>Load test: ${scenario.name} <span class="${passed ? 'pass' : 'fail'}">${passed ? 'PASS' : 'FAIL'}</span></h1>
<p>${scenario.description}</p>
<h2>Figures (as azure-openai-benchmark reports them)</h2>
<table aria-label="Figures"><tbody id="figures"></tbody></table>
<h2>Over time</h2>
<div class="charts" id="charts"></div>
<h2>Per full minute</h2>
<table aria-label="Per full minute"><thead><tr><th>Minute (UTC)</th><th>Requests</th><th>Request limit</th><th>Tokens</th><th>Token limit</th></tr></thead><tbody id="minutes"></tbody></table>
<h2>Criteria</h2>
<pre>${criteria.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</pre>
<script>${uplotFile('uPlot.iife.min.js')}</script>
<script>
const data = ${scriptSafe(data)};
const ms = (v) => (v === undefined || v === null ? 'n/a' : v.toFixed(1) + ' ms');
const rows = [['rpm', data.figures.rpm.toFixed(1)], ['tpm', data.figures.tpm.toFixed(0)], ['ttft avg', ms(data.figures.ttftAvg)], ['ttft p95', ms(data.figures.ttftP95)],
  ['tbt avg', ms(data.figures.tbtAvg)], ['tbt p95', ms(data.figures.tbtP95)], ['e2e avg', ms(data.figures.e2eAvg)], ['e2e p95', ms(data.figures.e2eP95)], ['throttled', String(data.figures.throttled)]];
document.getElementById('figures').replaceChildren(...rows.map(([k, v]) => { const tr = document.createElement('tr'); tr.dataset.figure = k; tr.innerHTML = '<th></th><td></td>'; tr.children[0].textContent = k; tr.children[1].textContent = v; return tr; }));
if (!data.minutes.length) document.getElementById('minutes').innerHTML = '<tr><td colspan="5">No full minute in this run (run 2 minutes or more for these figures).</td></tr>';
else document.getElementById('minutes').replaceChildren(...data.minutes.map((m) => { const tr = document.createElement('tr'); for (const v of [m.minute, m.requests, data.limits.requestsPerMinute ?? '-', m.tokens, data.limits.tokensPerMinute ?? '-']) { const td = document.createElement('td'); td.textContent = String(v); tr.append(td); } return tr; }));
// Per second of the run: answers by status, and p50/p95 end-to-end latency of the 200s.
const seconds = Math.max(1, Math.ceil(Math.max(0, ...data.timeline.map((x) => x.t)) + 1));
const xs = Array.from({ length: seconds }, (_, i) => i);
const byStatus = {}; const lat = xs.map(() => []);
for (const x of data.timeline) { const s = Math.floor(x.t); (byStatus[x.status] ||= xs.map(() => 0))[s]++; if (x.status === 200) lat[s].push(x.ms); }
const pct = (arr, q) => (arr.length ? [...arr].sort((a, b) => a - b)[Math.min(arr.length - 1, Math.floor(arr.length * q))] : null);
const colors = ['#0b5cad', '#c239b3', '#107c10', '#ca5010', '#5c2e91'];
const chart = (title, x, series, yLabel) => new uPlot({ title, width: 520, height: 240, scales: { x: { time: false } },
  axes: [{ label: 'seconds' }, { label: yLabel }], series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2, spanGaps: true, points: { show: s.points } }))] },
  [x, ...series.map((s) => s.values)], document.getElementById('charts').appendChild(document.createElement('figure')));
const probeOk = data.probe.filter((p) => p.status === 200);
chart('Time to first token and between tokens (streaming probe)', probeOk.map((p) => p.t), [
  { label: 'TTFT', values: probeOk.map((p) => p.ttftMs ?? null), points: true }, { label: 'time between tokens', values: probeOk.map((p) => p.tbtMs ?? null), points: true }], 'ms');
chart('End-to-end latency of successful answers', xs, [{ label: 'p50', values: lat.map((l) => pct(l, 0.5)) }, { label: 'p95', values: lat.map((l) => pct(l, 0.95)) }], 'ms');
chart('Answers by status code', xs, Object.entries(byStatus).map(([code, values]) => ({ label: code, values })), 'per second');
if (data.minutes.length) {
  const mx = data.minutes.map((_, i) => i);
  chart('Tokens per full minute against the limit', mx, [{ label: 'tokens', values: data.minutes.map((m) => m.tokens), points: true }, { label: 'limit', values: mx.map(() => data.limits.tokensPerMinute) }], 'tokens');
  chart('Requests per full minute against the limit', mx, [{ label: 'requests', values: data.minutes.map((m) => m.requests), points: true }, { label: 'limit', values: mx.map(() => data.limits.requestsPerMinute) }], 'requests');
}
</script>
</body></html>
`;
}

export function writeReport(file: string, scenario: Scenario, r: ScenarioResult, passed: boolean, criteria: string): void {
  writeFileSync(file, reportHtml(scenario, r, passed, criteria));
}
