// Event codes against real Azurite: each refusal through the openai client, max-token clamping
// (in generated usage and in what a fake upstream receives), the cache refresh, usage counts,
// the daily cap shared by two instances, and the CLI.
// (The CLI runs as a child process, never synchronously: Azurite serves it from this process.)

import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, startAzuriteTables, type Azurite } from '../loadtest/azurite';
import { API_VERSION, apiError, chatPath, KEY, post, startSimulator, type TestSimulator } from './helpers';
import { startUpstream } from './upstream';

const HOUR = 3_600_000;
const CLI = join(__dirname, '..', 'dist', 'tools', 'events.js');

/** Runs the events CLI; resolves with its exit status and output. */
function cli(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, ...env } },
      (err, stdout, stderr) => resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
let azurite: Azurite;
let events: TableClient;
let table = 0;

beforeAll(async () => {
  azurite = await startAzuriteTables();
});
afterAll(() => azurite.close());

/** A fresh events table per suite, with rows written as Storage Explorer would. */
async function eventsTable(rows: Record<string, unknown>[]): Promise<string> {
  const name = `events${Date.now().toString(36)}${table++}`;
  events = TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
  await events.createTable();
  for (const row of rows) await events.createEntity({ partitionKey: 'event', ...row } as never);
  return name;
}

const event = (code: string, extra: Record<string, unknown> = {}) => ({
  rowKey: code,
  Active: true,
  EventName: `Event ${code}`,
  StartUTC: new Date(Date.now() - HOUR),
  EndUTC: new Date(Date.now() + HOUR),
  MaxTokenCap: 20,
  ContactName: 'Org',
  ContactEmail: 'org@example.com',
  ...extra,
});

const attendeeClient = (url: string, key: string, deployment = 'gpt-4o') =>
  new AzureOpenAI({ endpoint: url, apiKey: key, apiVersion: API_VERSION, deployment, maxRetries: 0 });

const ask = (client: AzureOpenAI, max_tokens = 10) =>
  client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }], max_tokens });

describe('event codes', () => {
  let sim: TestSimulator;
  let usageTable: string;
  beforeAll(async () => {
    const name = await eventsTable([
      event('WORKSHOP-2026', { Deployments: 'gpt-4o,text-embedding-3-small' }),
      event('FUTURE-EVENT', { StartUTC: new Date(Date.now() + HOUR), EndUTC: new Date(Date.now() + 2 * HOUR) }),
      event('PAST-EVENT1', { StartUTC: new Date(Date.now() - 2 * HOUR), EndUTC: new Date(Date.now() - HOUR) }),
      event('INACTIVE-EV', { Active: false }),
      // Typed as strings, as hand-entered rows often are.
      {
        rowKey: 'STRINGLY-01',
        Active: 'true',
        EventName: 'Typed by hand',
        StartUTC: new Date(Date.now() - HOUR).toISOString(),
        EndUTC: new Date(Date.now() + HOUR).toISOString(),
        MaxTokenCap: '15',
      },
    ]);
    usageTable = `usage${Date.now().toString(36)}`;
    sim = await startSimulator({
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      EVENTS_TABLE: name,
      EVENTS_USAGE_TABLE: usageTable,
      EVENTS_REFRESH_SECONDS: '1',
      RATE_LIMIT_TABLE: `rl${Date.now().toString(36)}`,
    });
  });
  afterAll(() => sim.close());

  it('let attendees in with the code, alone or as code/name; the simulator key still works', async () => {
    expect((await ask(attendeeClient(sim.url, 'WORKSHOP-2026'))).choices).toHaveLength(1);
    expect((await ask(attendeeClient(sim.url, 'WORKSHOP-2026/alice'))).choices).toHaveLength(1);
    expect((await ask(attendeeClient(sim.url, 'STRINGLY-01/bob'))).choices).toHaveLength(1);
    expect((await ask(attendeeClient(sim.url, KEY))).choices).toHaveLength(1);
  });

  it("take the workshop proxy's openai-event-code header: it is the code over api-key, but the simulator key wins", async () => {
    const viaHeader = (key: string, code: string) =>
      new AzureOpenAI({
        endpoint: sim.url,
        apiKey: key,
        apiVersion: API_VERSION,
        deployment: 'gpt-4o',
        maxRetries: 0,
        defaultHeaders: { 'openai-event-code': code },
      });
    // The proxy's client: a placeholder key, the code in the header.
    expect((await ask(viaHeader('placeholder', 'WORKSHOP-2026/dave'))).choices).toHaveLength(1);
    // A valid code in api-key does not rescue an ended one in the header.
    const ended = await apiError(ask(viaHeader('WORKSHOP-2026', 'PAST-EVENT1')));
    expect(ended.status).toBe(401);
    expect(ended.message).toMatch(/has ended/);
    // The organiser's simulator key passes whatever the header says.
    expect((await ask(viaHeader(KEY, 'NO-SUCH-CODE'))).choices).toHaveLength(1);
    // The event's deployments still bind: this one is not among them.
    const other = await post(
      sim.url,
      chatPath('gpt-35-turbo'),
      { messages: [{ role: 'user', content: 'hi' }] },
      { 'api-key': 'x', 'openai-event-code': 'WORKSHOP-2026' },
    );
    expect(other.status).toBe(404);
  });

  it('refuse unknown, inactive, not started and ended codes with 401s that say which, and nothing else', async () => {
    const unknown = await apiError(ask(attendeeClient(sim.url, 'NO-SUCH-CODE')));
    expect(unknown.status).toBe(401);
    expect(unknown.message).toMatch(/invalid subscription key/);
    expect(unknown.message).not.toMatch(/Event|WORKSHOP/);
    const cases: [string, RegExp][] = [
      ['INACTIVE-EV', /Event INACTIVE-EV' is not active/],
      ['FUTURE-EVENT/carol', /has not started; it starts at \d{4}-/],
      ['PAST-EVENT1', /has ended; it ended at \d{4}-/],
    ];
    for (const [code, message] of cases) {
      const err = await apiError(ask(attendeeClient(sim.url, code)));
      expect(err.status).toBe(401);
      expect(err.message).toMatch(message);
    }
  });

  it('refuse a deployment the event may not use with DeploymentNotFound', async () => {
    const err = await apiError(ask(attendeeClient(sim.url, 'WORKSHOP-2026', 'gpt-4.1')));
    expect(err.status).toBe(404);
    expect((err.error as { code: string }).code).toBe('DeploymentNotFound');
  });

  it('clamp max_tokens to the event cap', async () => {
    const answer = await ask(attendeeClient(sim.url, 'WORKSHOP-2026/dave'), 500);
    expect(answer.usage!.completion_tokens).toBeLessThanOrEqual(20);
    expect(answer.choices[0].finish_reason).toBe('length');
    const organiser = await ask(attendeeClient(sim.url, KEY), 500);
    expect(organiser.usage!.completion_tokens).toBeGreaterThan(20);
  });

  it("clamp a Responses request's max_output_tokens to the event cap, on the v1 API too", async () => {
    const client = new OpenAI({ baseURL: `${sim.url}/openai/v1/`, apiKey: 'WORKSHOP-2026/hana', maxRetries: 0 });
    // store: false, as this account has Tables only (no Blob endpoint for stored responses).
    const answer = await client.responses.create({ model: 'gpt-4o', input: 'Write an essay', max_output_tokens: 500, store: false });
    expect(answer.usage!.output_tokens).toBeLessThanOrEqual(20);
    // A deployment the event may not use, named in the body.
    expect((await apiError(client.responses.create({ model: 'gpt-4.1', input: 'x', store: false }))).status).toBe(404);
  });

  it('stop a disabled code within the refresh interval', async () => {
    await events.createEntity({ partitionKey: 'event', ...event('SOON-OFF-1') } as never);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await ask(attendeeClient(sim.url, 'SOON-OFF-1'))).choices).toHaveLength(1);
    await events.updateEntity({ partitionKey: 'event', rowKey: 'SOON-OFF-1', Active: false }, 'Merge');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await apiError(ask(attendeeClient(sim.url, 'SOON-OFF-1')))).message).toMatch(/is not active/);
  });

  it('count requests and tokens per event and attendee (GET /++/events/usage, simulator key only)', async () => {
    const a = [await ask(attendeeClient(sim.url, 'STRINGLY-01/erin'), 5), await ask(attendeeClient(sim.url, 'STRINGLY-01/erin'), 7)];
    const b = await ask(attendeeClient(sim.url, 'STRINGLY-01/frank'), 3);
    expect((await fetch(`${sim.url}/++/events/usage`, { headers: { 'api-key': 'STRINGLY-01' } })).status).toBe(401);
    const res = await fetch(`${sim.url}/++/events/usage?event=STRINGLY-01`, { headers: { 'api-key': KEY } });
    const rows: { attendee: string; requests: number; promptTokens: number; completionTokens: number; day: string }[] = (await res.json()).usage;
    const erin = rows.find((r) => r.attendee === 'erin')!;
    expect(erin).toMatchObject({
      requests: 2,
      promptTokens: a[0].usage!.prompt_tokens + a[1].usage!.prompt_tokens,
      completionTokens: a[0].usage!.completion_tokens + a[1].usage!.completion_tokens,
      day: new Date().toISOString().slice(0, 10),
    });
    expect(rows.find((r) => r.attendee === 'frank')).toMatchObject({ requests: 1, completionTokens: b.usage!.completion_tokens });
    // bob's earlier request is there too.
    expect(rows.find((r) => r.attendee === 'bob')?.requests).toBe(1);

    // The CLI shows the same rows.
    const shown = await cli(['usage', 'STRINGLY-01'], { EVENTS_USAGE_TABLE: usageTable });
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/STRINGLY-01\s+erin\s+\d{4}-\d{2}-\d{2}\s+2\s/);
  });
});

describe('event caps', () => {
  it('reject instead of clamping when EVENT_MAX_TOKENS=reject', async () => {
    const name = await eventsTable([event('STRICT-CAP1')]);
    const sim = await startSimulator({ AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, EVENTS_TABLE: name, EVENT_MAX_TOKENS: 'reject' });
    try {
      const err = await apiError(ask(attendeeClient(sim.url, 'STRICT-CAP1'), 50));
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/at most 20 tokens per request/);
      expect((await ask(attendeeClient(sim.url, 'STRICT-CAP1'), 20)).choices).toHaveLength(1);
    } finally {
      await sim.close();
    }
  });

  it('in record mode, the real service receives the clamped request', async () => {
    const name = await eventsTable([event('PROXY-EVENT')]);
    const upstream = await startUpstream();
    const storage = await startAzurite(); // record mode keeps recordings in Blob Storage
    await TableClient.fromConnectionString(storage.connectionString, name, { allowInsecureConnection: true }).createTable();
    await TableClient.fromConnectionString(storage.connectionString, name, { allowInsecureConnection: true }).createEntity({
      partitionKey: 'event',
      ...event('PROXY-EVENT'),
    } as never);
    const sim = await startSimulator({
      AZURE_STORAGE_CONNECTION_STRING: storage.connectionString,
      EVENTS_TABLE: name,
      SIMULATOR_MODE: 'record',
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_KEY: 'real-key',
      RECORDING_CONTAINER: `rec${Date.now().toString(36)}`,
      RECORDING_DIR: mkdtempSync(join(tmpdir(), 'aoai-ev-')),
    });
    try {
      expect(
        (await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 400 }, { 'api-key': 'PROXY-EVENT/gina' })).status,
      ).toBe(200);
      const forwarded = JSON.parse(upstream.received.at(-1)!.body.toString('utf8'));
      expect(forwarded.max_tokens).toBe(20);
      expect(upstream.received.at(-1)!.headers['api-key']).toBe('real-key');
    } finally {
      await sim.close();
      await upstream.close();
      await storage.close();
    }
  });

  it('a storage connection string without Blob Storage is a start-up error in record mode', async () => {
    await expect(
      startSimulator({
        AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
        SIMULATOR_MODE: 'record',
        AZURE_OPENAI_ENDPOINT: 'http://127.0.0.1:9',
      }),
    ).rejects.toThrow(/The recording store cannot be used/);
  });

  it('two instances sharing the table agree on the daily cap; the 429 points at the next UTC midnight', async () => {
    const name = await eventsTable([event('DAILY-CAP-5', { DailyRequestCap: 5 })]);
    const env = { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, EVENTS_TABLE: name, RATE_LIMIT_TABLE: `cap${Date.now().toString(36)}` };
    const [one, two] = await Promise.all([startSimulator(env), startSimulator(env)]);
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 8; i++) {
        last = await post(
          (i % 2 ? two : one).url,
          chatPath('gpt-4o'),
          { messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 },
          { 'api-key': `DAILY-CAP-5/p${i}` },
        );
        statuses.push(last.status);
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(5);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      const untilMidnight = (Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1) - Date.now()) / 1000;
      expect(Math.abs(Number(last!.headers.get('retry-after')) - untilMidnight)).toBeLessThan(5);
      expect((await last!.json()).error.message).toMatch(/daily request cap \(5\) has been reached/);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe('npm run events', () => {
  it('adds, lists and disables events', async () => {
    const name = `cli${Date.now().toString(36)}`;
    const run = (...args: string[]) => cli(args, { EVENTS_TABLE: name });
    const added = await run(
      'add',
      'CLI-EVENT-1',
      '--name',
      'CLI Day',
      '--start',
      new Date(Date.now() - HOUR).toISOString(),
      '--end',
      new Date(Date.now() + HOUR).toISOString(),
      '--max-tokens',
      '64',
      '--daily-cap',
      '100',
      '--deployments',
      'gpt-4o',
    );
    expect(added.status).toBe(0);
    expect((await run('add', 'x', '--name', 'bad')).status).toBe(2);
    expect((await run('list')).stdout).toMatch(/CLI-EVENT-1\s+CLI Day\s+true\s+.*\s64\s+100\s+gpt-4o/);
    expect((await run('disable', 'CLI-EVENT-1')).status).toBe(0);
    expect((await run('list')).stdout).toMatch(/CLI-EVENT-1\s+CLI Day\s+false/);
    // And the simulator reads what the CLI wrote.
    expect((await run('enable', 'CLI-EVENT-1')).status).toBe(0);
    const sim = await startSimulator({ AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, EVENTS_TABLE: name });
    try {
      expect((await ask(attendeeClient(sim.url, 'CLI-EVENT-1'), 10)).choices).toHaveLength(1);
    } finally {
      await sim.close();
    }
  });
});
