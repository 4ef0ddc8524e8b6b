// GET /++/dashboard: the organisers' and load testers' live view. Every 2 s it reads
// /++/dashboard/data (each deployment's use of its windows, shared across instances with storage;
// recordings; events) and /++/metrics (this instance's six metrics), and draws the metrics as
// small charts with uPlot. The simulator key is asked for once and kept in sessionStorage.

import { pageHead } from './style';

const SCRIPT = String.raw`
const $ = (id) => document.getElementById(id);
const KEY = 'aoai-simulator-key';
const POLL_MS = 2000;
const HISTORY = 150; // points per chart: five minutes
// The six metrics: [title, Prometheus name, what each point is].
const CHARTS = [
  ['Latency, before simulated wait (ms, mean)', 'aoai_api_simulator_latency_base', 'mean'],
  ['Latency, full answer (ms, mean)', 'aoai_api_simulator_latency_full', 'mean'],
  ['Tokens used (per 2 s)', 'aoai_api_simulator_tokens_used', 'sum'],
  ['Tokens requested (per 2 s)', 'aoai_api_simulator_tokens_requested', 'sum'],
  ['Rate-limit tokens charged (per 2 s)', 'aoai_api_simulator_tokens_rate_limit', 'sum'],
  ['429s (per 2 s)', 'aoai_api_simulator_limits', 'count'],
];
const series = { t: [], values: CHARTS.map(() => []) };
let previous, plots = [], timer;

/** Prometheus text → { name: [{ labels, value }] } for the _count and _sum lines. */
function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)_(count|sum)\{([^}]*)\} ([0-9.eE+-]+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[3].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    (out[m[1] + '_' + m[2]] ||= []).push({ labels, value: Number(m[4]) });
  }
  return out;
}
const total = (metrics, name, filter = () => true) => (metrics[name] || []).filter((s) => filter(s.labels)).reduce((a, s) => a + s.value, 0);

function cell(row, text, field) {
  const td = document.createElement('td');
  td.textContent = text;
  if (field) td.dataset.field = field;
  row.append(td);
  return td;
}
const windowOf = (d, kind, ms) => (Array.isArray(d.windows) ? d.windows.find((w) => w.kind === kind && (!ms || w.windowMs === ms)) : undefined);
const used = (w) => (w ? w.used + ' / ' + w.limit : '-');

function render(data, metrics) {
  $('status').textContent = 'Updated ' + new Date(data.at).toLocaleTimeString() + ' · mode ' + data.mode + ' · ' +
    (data.sharedCounters ? 'window figures are the whole app\u2019s (shared counters)' : 'window figures are this instance\u2019s (no storage configured)');
  const names = new Set(data.deployments.map((d) => d.name));
  for (const s of metrics.aoai_api_simulator_latency_full_count || []) names.add(s.labels.deployment);
  const rows = [...names].sort().map((name) => {
    const d = data.deployments.find((x) => x.name === name) || { name, model: '(undefined deployment)', windows: [] };
    const row = document.createElement('tr');
    row.dataset.deployment = name;
    const th = document.createElement('th'); th.scope = 'row'; th.textContent = name; row.append(th);
    const byDeployment = (l) => l.deployment === name;
    cell(row, d.model);
    cell(row, used(windowOf(d, 'tokens')), 'tokens-window');
    cell(row, used(windowOf(d, 'requests', 10000) || windowOf(d, 'requests')), 'requests-window');
    cell(row, String(total(metrics, 'aoai_api_simulator_latency_full_count', byDeployment)), 'answers');
    cell(row, String(total(metrics, 'aoai_api_simulator_tokens_used_sum', byDeployment)), 'tokens-used');
    cell(row, String(total(metrics, 'aoai_api_simulator_limits_count', byDeployment)), 'rate-limited');
    return row;
  });
  $('deployments').replaceChildren(...rows);

  const rec = Array.isArray(data.recordings) ? data.recordings : [];
  $('recordings-section').classList.toggle('hidden', data.recordings === null);
  $('recordings').replaceChildren(...rec.map((r) => { const row = document.createElement('tr'); cell(row, r.file); cell(row, String(r.interactions), 'interactions'); cell(row, String(r.unsaved)); return row; }));
  if (data.recordings && data.recordings.error) $('recordings-error').textContent = data.recordings.error;
  const events = Array.isArray(data.events) ? data.events : [];
  $('events-section').classList.toggle('hidden', data.events === null);
  $('events').replaceChildren(...events.map((u) => { const row = document.createElement('tr'); for (const v of [u.event, u.attendee, u.day, u.requests, u.promptTokens, u.completionTokens]) cell(row, String(v ?? '')); return row; }));
}

function chartPoint(metrics, [, name, kind]) {
  const now = { count: total(metrics, name + '_count'), sum: total(metrics, name + '_sum') };
  const before = previous && previous[name];
  if (!previous) return [now, null];
  const dc = now.count - before.count, ds = now.sum - before.sum;
  if (kind === 'mean') return [now, dc > 0 ? (ds / dc) * 1000 : null];
  return [now, kind === 'count' ? dc : ds];
}

function drawCharts(metrics) {
  const next = {};
  series.t.push(Date.now() / 1000);
  CHARTS.forEach((chart, i) => { const [now, point] = chartPoint(metrics, chart); next[chart[1]] = now; series.values[i].push(point); });
  previous = next;
  if (series.t.length > HISTORY) { series.t.shift(); series.values.forEach((v) => v.shift()); }
  if (!window.uPlot) return;
  if (!plots.length) {
    plots = CHARTS.map(([title], i) => new uPlot({ title, width: 360, height: 160, legend: { show: false }, series: [{}, { stroke: '#0b5cad', width: 2, spanGaps: true }] },
      [series.t, series.values[i]], $('charts').appendChild(Object.assign(document.createElement('figure'), { className: 'chart' }))));
  } else plots.forEach((p, i) => p.setData([series.t, series.values[i]]));
}

async function poll() {
  const headers = { 'api-key': sessionStorage.getItem(KEY) };
  try {
    const [dataRes, metricsRes] = await Promise.all([fetch('/++/dashboard/data', { headers }), fetch('/++/metrics', { headers })]);
    if (dataRes.status === 401) { sessionStorage.removeItem(KEY); showSignedIn('That is not the simulator key.'); return; }
    if (!dataRes.ok || !metricsRes.ok) throw new Error('the simulator answered ' + dataRes.status + '/' + metricsRes.status);
    const metrics = parseMetrics(await metricsRes.text());
    render(await dataRes.json(), metrics);
    drawCharts(metrics);
    $('problem').classList.add('hidden');
  } catch (err) {
    $('problem').textContent = 'Could not update: ' + err.message;
    $('problem').classList.remove('hidden');
  }
  timer = setTimeout(poll, POLL_MS);
}

function showSignedIn(message) {
  const signedIn = Boolean(sessionStorage.getItem(KEY));
  $('signin').classList.toggle('hidden', signedIn);
  $('board').classList.toggle('hidden', !signedIn);
  $('problem').textContent = message || '';
  $('problem').classList.toggle('hidden', !message);
  clearTimeout(timer);
  if (signedIn) poll();
}
$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $('key').value.trim());
  $('key').value = '';
  showSignedIn();
});
$('signout').addEventListener('click', () => { sessionStorage.removeItem(KEY); showSignedIn(); });
showSignedIn();
`;

export const DASHBOARD_PAGE = `${pageHead(
  'Dashboard',
  `
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(370px, 1fr)); gap: .5rem; }
.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: .25rem; }
.uplot .u-title { font-size: .85rem; font-weight: 600; }
`,
  '<link rel="stylesheet" href="/++/assets/uPlot.min.css">\n<script src="/++/assets/uPlot.iife.min.js" defer></script>\n',
)}
<body>
<header><h1>aoai-simulator dashboard</h1><span id="status" class="muted" aria-live="polite"></span><button id="signout" class="secondary" type="button">Sign out</button></header>
<main>
<form id="signin" aria-labelledby="signin-title">
  <h2 id="signin-title">Sign in</h2>
  <p class="muted">Kept only in this browser tab's session.</p>
  <label for="key">Simulator key</label>
  <input id="key" type="password" autocomplete="off" required>
  <button type="submit">Show the dashboard</button>
</form>
<div id="problem" class="alert hidden" role="alert"></div>
<div id="board" class="hidden">
  <h2>Deployments</h2>
  <table aria-label="Deployments">
    <thead><tr><th scope="col">Deployment</th><th scope="col">Model</th><th scope="col">Tokens this minute</th><th scope="col">Requests this 10 s</th><th scope="col">Answers</th><th scope="col">Tokens used</th><th scope="col">429s</th></tr></thead>
    <tbody id="deployments"></tbody>
  </table>
  <p class="muted">Answers, tokens used and 429s: this instance since it started (as /++/metrics). Window figures: granted in the current window.</p>
  <h2>Metrics</h2>
  <div id="charts"></div>
  <section id="recordings-section" class="hidden">
    <h2>Recordings</h2><p id="recordings-error" class="muted"></p>
    <table aria-label="Recordings"><thead><tr><th scope="col">File</th><th scope="col">Interactions</th><th scope="col">Not yet saved</th></tr></thead><tbody id="recordings"></tbody></table>
  </section>
  <section id="events-section" class="hidden">
    <h2>Events</h2>
    <table aria-label="Event usage"><thead><tr><th scope="col">Event</th><th scope="col">Attendee</th><th scope="col">Day</th><th scope="col">Requests</th><th scope="col">Prompt tokens</th><th scope="col">Completion tokens</th></tr></thead><tbody id="events"></tbody></table>
  </section>
</div>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
