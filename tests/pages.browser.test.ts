// The playground and the dashboard in a real browser: Debian's chromium driven by playwright-core.
// A chat streams in the playground; an ended event code and a 429 are shown as refusals; the
// dashboard's numbers match /++/metrics after a known sequence; the load-test HTML report shows
// the run's benchmark figures and its charts; the playground also works in record and replay
// modes. UPDATE_SCREENSHOTS=1 also writes the README's screenshots (docs/*.png).

import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzuriteTables, type Azurite } from '../loadtest/azurite';
import { benchmarkFigures, writeReport } from '../loadtest/report';
import { runScenario } from '../loadtest/run';
import { SCENARIOS } from '../loadtest/scenarios';
import { chatPath, deploymentsFile, KEY, post, startSimulator, type TestSimulator } from './helpers';
import { startUpstream } from './upstream';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOUR = 3_600_000;
const screenshots = process.env.UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', 'docs') : undefined;

let browser: Browser;
let azurite: Azurite;
let sim: TestSimulator;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
  });
  azurite = await startAzuriteTables();
  const table = `events${Date.now().toString(36)}`;
  const events = TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true });
  await events.createTable();
  const row = (code: string, start: number, end: number) => ({
    partitionKey: 'event',
    rowKey: code,
    Active: true,
    EventName: `Workshop ${code}`,
    StartUTC: new Date(start),
    EndUTC: new Date(end),
    MaxTokenCap: 100,
  });
  await events.createEntity(row('OPEN-EVENT', Date.now() - HOUR, Date.now() + HOUR));
  await events.createEntity(row('ENDED-EVENT', Date.now() - 2 * HOUR, Date.now() - HOUR));
  sim = await startSimulator({
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
    EVENTS_TABLE: table,
    RATE_LIMIT_TABLE: `rl${Date.now().toString(36)}`,
    OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({
      chat: { model: 'gpt-4o', tokensPerMinute: 100000, requestsPerMinute: 600 },
      // 2 requests per 10 s: the third is a 429.
      tiny: { model: 'gpt-4o', tokensPerMinute: 100000, requestsPerMinute: 12 },
    }),
    SIMULATOR_LATENCY: 'on',
    LATENCY_OPENAI_CHAT_COMPLETIONS_TTFT_MEAN: '300',
    LATENCY_OPENAI_CHAT_COMPLETIONS_TTFT_STD_DEV: '0',
    LATENCY_OPENAI_CHAT_COMPLETIONS_MEAN: '15',
    LATENCY_OPENAI_CHAT_COMPLETIONS_STD_DEV: '0',
  });
}, 60000);

afterAll(async () => {
  await browser?.close();
  await sim?.close();
  await azurite?.close();
});

async function signIn(page: Page, path: string, field: string, credential: string): Promise<void> {
  await page.goto(sim.url + path);
  await page.getByLabel(field).fill(credential);
  await page.getByLabel(field).press('Enter');
}

describe('the playground', () => {
  it('streams a chat answer in and shows its figures', async () => {
    const page = await browser.newPage();
    await signIn(page, '/playground', 'Event code or key', 'OPEN-EVENT/ada');
    await page.getByLabel('Deployment').fill('chat');
    await page.getByLabel('Max tokens').fill('80');
    await page.getByLabel(/Your message/).fill('Tell me about rate limits');
    await page.getByLabel(/Your message/).press('Control+Enter');
    // Part of the answer is on the page while the rest is still coming (80 tokens at 15 ms each).
    const answer = page.locator('.message.assistant .content');
    await answer.first().waitFor();
    await page.waitForFunction(() => (document.querySelector('.message.assistant .content')?.textContent ?? '').length > 0);
    const partial = await answer.textContent();
    expect(await page.locator('#figures').isHidden()).toBe(true);
    await page.locator('#figures').waitFor({ state: 'visible', timeout: 20000 });
    const full = await answer.textContent();
    expect(full!.length).toBeGreaterThan(partial!.length);
    expect(full!.startsWith(partial!)).toBe(true);
    // The figures: the event cap is 100, so 80 tokens exactly (max_tokens); TTFT at least the 300 ms configured.
    expect(Number(await page.locator('#fig-completion').textContent())).toBeGreaterThan(0);
    expect(Number(await page.locator('#fig-completion').textContent())).toBeLessThanOrEqual(80);
    expect(Number(await page.locator('#fig-prompt').textContent())).toBeGreaterThan(5);
    expect(Number((await page.locator('#fig-ttft').textContent())!.replace(' ms', ''))).toBeGreaterThanOrEqual(290);
    expect(await page.locator('#fig-limit-tokens').textContent()).toBe('100000');
    expect(Number(await page.locator('#fig-remaining-requests').textContent())).toBeLessThan(100);
    if (screenshots) {
      mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: join(screenshots, 'playground.png'), fullPage: true });
    }
    await page.close();
  }, 60000);

  it('shows an ended event code and a 429 as refusals a person can read', async () => {
    const page = await browser.newPage();
    await signIn(page, '/playground', 'Event code or key', 'ENDED-EVENT');
    await page.getByLabel(/Your message/).fill('hello');
    await page.getByRole('button', { name: 'Send' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toMatch(/^Not signed in: .*has ended.*ask the organiser/);
    expect(await page.locator('.message.assistant').count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, '/playground', 'Event code or key', KEY);
    await page.getByLabel('Deployment').fill('tiny');
    await page.getByLabel('Max tokens').fill('5');
    for (let i = 0; i < 3; i++) {
      await page.getByLabel(/Your message/).fill(`message ${i}`);
      await page.getByRole('button', { name: 'Send' }).click();
      await page.waitForFunction(() => !(document.getElementById('send') as HTMLButtonElement).disabled);
    }
    expect(await alert.textContent()).toMatch(/^Too many requests just now: try again in \d+ seconds?\./);
    await page.close();
  }, 60000);
});

describe('the playground in record and replay modes', () => {
  it('streams a real model through record mode, and the same answer again from the recording', async () => {
    const upstream = await startUpstream('model');
    const dir = mkdtempSync(join(tmpdir(), 'aoai-playground-rec-'));
    const chatOnce = async (url: string) => {
      const page = await browser.newPage();
      await page.goto(url + '/playground');
      await page.getByLabel('Event code or key').fill(KEY);
      await page.getByLabel('Event code or key').press('Enter');
      await page.getByLabel(/Your message/).fill('hello from the workshop');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.locator('#figures').waitFor({ state: 'visible', timeout: 20000 });
      const answer = await page.locator('.message.assistant .content').textContent();
      const ttft = await page.locator('#fig-ttft').textContent();
      await page.close();
      return { answer, ttft };
    };
    try {
      const recorder = await startSimulator({
        SIMULATOR_MODE: 'record',
        RECORDING_DIR: dir,
        AZURE_OPENAI_ENDPOINT: upstream.url,
        AZURE_OPENAI_KEY: 'upstream-key',
      });
      const recorded = await chatOnce(recorder.url).finally(() => recorder.close());
      expect(recorded.answer).toBe('model answer 1 to hello from the workshop');
      expect(upstream.received).toHaveLength(1);
      const replayer = await startSimulator({ SIMULATOR_MODE: 'replay', RECORDING_DIR: dir });
      const replayed = await chatOnce(replayer.url).finally(() => replayer.close());
      expect(replayed.answer).toBe(recorded.answer);
      // Paced as recorded: the first word came 80 ms after the role event.
      expect(Number(replayed.ttft!.replace(' ms', ''))).toBeGreaterThanOrEqual(60);
      expect(upstream.received).toHaveLength(1);
    } finally {
      await upstream.close();
    }
  }, 60000);
});

describe('the dashboard', () => {
  it("shows this instance's metrics exactly as /++/metrics has them, six charts, and the windows' use", async () => {
    // A known sequence: 3 answers on chat, and on tiny 2 answers then a 429.
    for (let i = 0; i < 3; i++)
      expect((await post(sim.url, chatPath('chat'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 })).status).toBe(200);
    const tiny = [];
    for (let i = 0; i < 3; i++) tiny.push((await post(sim.url, chatPath('tiny'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 })).status);
    expect(tiny).toContain(429);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, '/++/dashboard', 'Simulator key', KEY);
    const cellOf = (deployment: string, field: string) => page.locator(`tr[data-deployment="${deployment}"] td[data-field="${field}"]`);
    await cellOf('tiny', 'rate-limited').waitFor();
    // Two polls: the charts have a point, and no request is running.
    await page.waitForFunction(() => document.querySelectorAll('#charts canvas').length === 6, undefined, { timeout: 15000 });
    const metrics = await (await fetch(`${sim.url}/++/metrics`, { headers: { 'api-key': KEY } })).text();
    const sum = (name: string, deployment: string) =>
      [...metrics.matchAll(new RegExp(`^${name}\\{deployment="${deployment}"[^}]*\\} ([0-9.]+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
    await page.waitForTimeout(2500); // one more poll after the fetch above
    for (const deployment of ['chat', 'tiny']) {
      expect(Number(await cellOf(deployment, 'answers').textContent())).toBe(sum('aoai_api_simulator_latency_full_count', deployment));
      expect(Number(await cellOf(deployment, 'tokens-used').textContent())).toBe(sum('aoai_api_simulator_tokens_used_sum', deployment));
      expect(Number(await cellOf(deployment, 'rate-limited').textContent())).toBe(sum('aoai_api_simulator_limits_count', deployment));
    }
    expect(Number(await cellOf('tiny', 'rate-limited').textContent())).toBeGreaterThanOrEqual(1);
    // tiny: at most its 2 requests in this 10 s window.
    expect(await cellOf('tiny', 'requests-window').textContent()).toMatch(/^[0-2] \/ 2$/);
    if (screenshots) await page.screenshot({ path: join(screenshots, 'dashboard.png'), fullPage: true });
    await page.close();
  }, 60000);
});

describe('the load-test report', () => {
  it("shows the run's azure-openai-benchmark figures and its charts, self-contained", async () => {
    const scenario = SCENARIOS['added-latency'];
    const { result, passed, report } = await runScenario(scenario, { seconds: 4, quiet: true });
    const file = join(mkdtempSync(join(tmpdir(), 'aoai-report-')), 'report.html');
    writeReport(file, scenario, result, passed, report);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    // Offline: a self-contained file needs no request at all.
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => document.querySelectorAll('#charts canvas').length >= 3);
    const figure = async (name: string) => page.locator(`tr[data-figure="${name}"] td`).textContent();
    const f = benchmarkFigures(result);
    expect(await figure('rpm')).toBe(f.rpm.toFixed(1));
    expect(await figure('tpm')).toBe(f.tpm.toFixed(0));
    expect(await figure('throttled')).toBe(String(f.throttled));
    expect(await figure('e2e p95')).toBe(`${f.e2eP95!.toFixed(1)} ms`);
    expect(await figure('ttft avg')).toBe(`${f.ttftAvg!.toFixed(1)} ms`);
    // 1 s answers (10 ms a token): the end-to-end figures say so, and the probe streamed.
    expect(f.e2eAvg!).toBeGreaterThan(900);
    expect(f.tbtAvg!).toBeGreaterThan(5);
    expect(await page.locator('h1').textContent()).toContain(passed ? 'PASS' : 'FAIL');
    expect(requests).toEqual([]);
    if (screenshots) await page.screenshot({ path: join(screenshots, 'loadtest-report.png'), fullPage: true });
    await page.close();
  }, 90000);
});
