// GET /playground: the workshop proxy's web client. Sign in with an event code (attendees) or the
// simulator key (organisers), kept in sessionStorage only; chat with a deployment, streamed; see
// each answer's tokens, time to first token, tokens per second and x-ratelimit-* figures.

import { pageHead } from './style';

const SCRIPT = String.raw`
const $ = (id) => document.getElementById(id);
const KEY = 'aoai-simulator-credential';
const API_VERSION = '2024-10-21';
let conversation = [];

function credential() { return sessionStorage.getItem(KEY); }
function showSignedIn() {
  const signedIn = Boolean(credential());
  $('signin').classList.toggle('hidden', signedIn);
  $('chat').classList.toggle('hidden', !signedIn);
  $('signout').classList.toggle('hidden', !signedIn);
  if (signedIn) loadDeployments();
}
// Organisers' keys can read the deployments; an event code cannot, and types the name.
async function loadDeployments() {
  const res = await fetch('/++/config', { headers: { 'api-key': credential() } }).catch(() => undefined);
  if (!res || !res.ok) return;
  const names = Object.keys((await res.json()).openai_deployments || {});
  $('deployment-names').replaceChildren(...names.map((n) => Object.assign(document.createElement('option'), { value: n })));
}
function showRefusal(text) { const a = $('refusal'); a.textContent = text; a.classList.remove('hidden'); }
function clearRefusal() { $('refusal').classList.add('hidden'); }

// A refusal as a person wants to read it: what happened, and what to do.
function refusalText(status, error, headers) {
  const message = (error && error.message) || '';
  if (status === 401) return 'Not signed in: ' + message + ' Check your event code, or ask the organiser.';
  if (status === 429) {
    const seconds = Number(headers.get('retry-after') || 0);
    if (/daily|day/i.test(message)) return 'The event has used its requests for today. ' + message;
    return 'Too many requests just now: try again in ' + seconds + ' second' + (seconds === 1 ? '' : 's') + '. (' + message + ')';
  }
  if (status === 404) return 'That deployment is not available to you: ' + message;
  if (status === 400) return 'The request was refused: ' + message;
  return 'The service answered ' + status + ': ' + message;
}

function addMessage(role, text) {
  const item = document.createElement('li');
  item.className = 'message ' + role;
  const who = document.createElement('strong');
  who.textContent = role === 'user' ? 'You' : role === 'assistant' ? 'Assistant' : role;
  const body = document.createElement('div');
  body.className = 'content';
  body.textContent = text;
  item.append(who, body);
  $('messages').append(item);
  return body;
}

function number(id) { const v = $(id).value.trim(); return v === '' ? undefined : Number(v); }

async function send(event) {
  event.preventDefault();
  clearRefusal();
  const text = $('prompt').value.trim();
  if (!text) return;
  const deployment = $('deployment').value.trim();
  const system = $('system').value.trim();
  conversation.push({ role: 'user', content: text });
  addMessage('user', text);
  $('prompt').value = '';
  const stop = $('stop').value.split(',').map((s) => s.trim()).filter(Boolean);
  const body = {
    messages: (system ? [{ role: 'system', content: system }] : []).concat(conversation),
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: number('max_tokens'), temperature: number('temperature'), top_p: number('top_p'),
    presence_penalty: number('presence_penalty'), frequency_penalty: number('frequency_penalty'),
    stop: stop.length ? stop : undefined,
  };
  $('send').disabled = true;
  const started = performance.now();
  try {
    const res = await fetch('/openai/deployments/' + encodeURIComponent(deployment) + '/chat/completions?api-version=' + API_VERSION, {
      method: 'POST', headers: { 'api-key': credential(), 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    if (!res.ok) {
      conversation.pop();
      const error = await res.json().then((b) => b.error).catch(() => undefined);
      showRefusal(refusalText(res.status, error, res.headers));
      return;
    }
    const out = addMessage('assistant', '');
    let answer = '', firstToken, usage, buffer = '';
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end); buffer = buffer.slice(end + 2);
        const data = frame.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
        if (!data || data === '[DONE]') continue;
        const chunk = JSON.parse(data);
        if (chunk.error) { showRefusal('The answer was cut off: ' + chunk.error.message); continue; }
        if (chunk.usage) usage = chunk.usage;
        const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta && chunk.choices[0].delta.content;
        if (delta) { if (firstToken === undefined) firstToken = performance.now(); answer += delta; out.textContent = answer; }
      }
    }
    const ended = performance.now();
    conversation.push({ role: 'assistant', content: answer });
    showFigures(res.headers, usage, started, firstToken, ended);
  } catch (err) {
    conversation.pop();
    showRefusal('The service could not be reached: ' + err.message);
  } finally {
    $('send').disabled = false;
  }
}

function showFigures(headers, usage, started, firstToken, ended) {
  const completion = usage ? usage.completion_tokens : 0;
  const streaming = firstToken === undefined ? 0 : (ended - firstToken) / 1000;
  const figures = {
    'fig-prompt': usage ? usage.prompt_tokens : '-',
    'fig-completion': usage ? completion : '-',
    'fig-ttft': firstToken === undefined ? '-' : Math.round(firstToken - started) + ' ms',
    'fig-tps': streaming > 0 && completion > 1 ? ((completion - 1) / streaming).toFixed(1) : '-',
    'fig-remaining-tokens': headers.get('x-ratelimit-remaining-tokens') || '-',
    'fig-limit-tokens': headers.get('x-ratelimit-limit-tokens') || '-',
    'fig-remaining-requests': headers.get('x-ratelimit-remaining-requests') || '-',
    'fig-limit-requests': headers.get('x-ratelimit-limit-requests') || '-',
  };
  for (const [id, value] of Object.entries(figures)) $(id).textContent = String(value);
  $('figures').classList.remove('hidden');
}

$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('credential').value.trim();
  if (!value) return;
  sessionStorage.setItem(KEY, value);
  $('credential').value = '';
  showSignedIn();
  $('prompt').focus();
});
$('signout').addEventListener('click', () => { sessionStorage.removeItem(KEY); conversation = []; $('messages').replaceChildren(); showSignedIn(); });
$('clear').addEventListener('click', () => { conversation = []; $('messages').replaceChildren(); clearRefusal(); });
$('chat').addEventListener('submit', send);
// Ctrl/Cmd+Enter sends from the message box.
$('prompt').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('chat').requestSubmit(); });
showSignedIn();
`;

export const PLAYGROUND_PAGE = `${pageHead(
  'Playground',
  `
.layout { display: grid; grid-template-columns: 280px 1fr; gap: 1.5rem; }
@media (max-width: 800px) { .layout { grid-template-columns: 1fr; } }
#messages { list-style: none; padding: 0; margin: 0 0 1rem; }
.message { padding: .5rem .75rem; border: 1px solid var(--line); border-radius: 6px; margin-bottom: .5rem; white-space: pre-wrap; }
.message.user { border-color: var(--accent); }
dl { display: grid; grid-template-columns: auto auto; gap: .15rem 1rem; margin: .5rem 0; }
dt { color: var(--muted); } dd { margin: 0; font-variant-numeric: tabular-nums; }
`,
)}
<body>
<header><h1>aoai-simulator playground</h1><button id="signout" class="secondary hidden" type="button">Sign out</button></header>
<main>
<form id="signin" aria-labelledby="signin-title">
  <h2 id="signin-title">Sign in</h2>
  <p class="muted">Attendees: your event code (optionally <code>CODE/your-name</code>). Organisers: the simulator key. It is kept only in this browser tab's session.</p>
  <label for="credential">Event code or key</label>
  <input id="credential" type="password" autocomplete="off" required>
  <button type="submit">Sign in</button>
</form>
<div id="refusal" class="alert hidden" role="alert"></div>
<form id="chat" class="layout hidden" aria-label="Chat">
  <section aria-label="Settings">
    <label for="deployment">Deployment</label>
    <input id="deployment" list="deployment-names" value="gpt-4o" required>
    <datalist id="deployment-names"></datalist>
    <label for="system">System message</label>
    <textarea id="system" rows="4">You are a helpful assistant.</textarea>
    <label for="max_tokens">Max tokens</label><input id="max_tokens" type="number" min="1" value="200">
    <label for="temperature">Temperature</label><input id="temperature" type="number" min="0" max="2" step="0.1" value="0.7">
    <label for="top_p">Top P</label><input id="top_p" type="number" min="0" max="1" step="0.05" value="1">
    <label for="stop">Stop sequences (comma-separated)</label><input id="stop">
    <label for="presence_penalty">Presence penalty</label><input id="presence_penalty" type="number" min="-2" max="2" step="0.1" value="0">
    <label for="frequency_penalty">Frequency penalty</label><input id="frequency_penalty" type="number" min="-2" max="2" step="0.1" value="0">
  </section>
  <section aria-label="Conversation">
    <ol id="messages" aria-live="polite"></ol>
    <label for="prompt">Your message (Ctrl+Enter sends)</label>
    <textarea id="prompt" rows="3"></textarea>
    <p><button id="send" type="submit">Send</button> <button id="clear" class="secondary" type="button">Clear conversation</button></p>
    <section id="figures" class="hidden" aria-label="This answer's figures">
      <h2>This answer</h2>
      <dl>
        <dt>Prompt tokens</dt><dd id="fig-prompt"></dd>
        <dt>Completion tokens</dt><dd id="fig-completion"></dd>
        <dt>Time to first token</dt><dd id="fig-ttft"></dd>
        <dt>Tokens per second</dt><dd id="fig-tps"></dd>
        <dt>x-ratelimit-remaining-tokens</dt><dd id="fig-remaining-tokens"></dd>
        <dt>x-ratelimit-limit-tokens</dt><dd id="fig-limit-tokens"></dd>
        <dt>x-ratelimit-remaining-requests</dt><dd id="fig-remaining-requests"></dd>
        <dt>x-ratelimit-limit-requests</dt><dd id="fig-limit-requests"></dd>
      </dl>
    </section>
  </section>
</form>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
