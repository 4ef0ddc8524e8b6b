// Record mode's backends from the workshop proxy's Table (Azurite): the requested deployment maps
// to its active rows, each forwarding to its own endpoint and deployment; round-robin, a row listed
// twice served twice as often; a row without a key uses Entra ID; edits are picked up without a
// restart; no active row is AOAI's 404; keys appear in no answer, config or metrics.

import { createServer, type Server } from 'node:http';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../loadtest/azurite';
import { chatPath, KEY, post, startSimulator, type TestSimulator } from './helpers';
import { startUpstream, type FakeUpstream } from './upstream';

const TABLE = `configuration${Date.now().toString(36)}`;
const SECRET_A = 'key-a-0123456789-SECRET';
let azurite: Azurite;
let table: TableClient;
let a: FakeUpstream;
let b: FakeUpstream;
let identity: Server;
let sim: TestSimulator;
const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

const row = (rowKey: string, extra: Record<string, unknown>) => ({ partitionKey: 'openai-chat', rowKey, Active: true, Location: 'swedencentral', ...extra });

beforeAll(async () => {
  azurite = await startAzurite();
  [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  // The app's managed identity, as App Service hands it over: for the row without a key.
  identity = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'entra-token-b', token_type: 'Bearer', expires_on: String(Math.floor(Date.now() / 1000) + 3600) }));
  });
  await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve));
  process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(identity.address() as { port: number }).port}/msi/token`;
  process.env.IDENTITY_HEADER = 'identity-secret';
  table = TableClient.fromConnectionString(azurite.connectionString, TABLE, { allowInsecureConnection: true });
  await table.createTable();
  // Rows as an organiser types them in Storage Explorer; one row listed twice.
  await table.createEntity(row('sweden-1', { EndpointUrl: a.url, EndpointKey: SECRET_A, DeploymentName: 'gpt-4o-sweden', SimulatorDeployment: 'chat' }));
  await table.createEntity(row('sweden-1-again', { EndpointUrl: a.url, EndpointKey: SECRET_A, DeploymentName: 'gpt-4o-sweden', SimulatorDeployment: 'chat' }));
  await table.createEntity(row('east-us', { EndpointUrl: b.url, DeploymentName: 'gpt-4o-east', SimulatorDeployment: 'chat', Active: 'true' }));
  await table.createEntity(row('switched-off', { EndpointUrl: b.url, DeploymentName: 'other', Active: false }));
  sim = await startSimulator({
    SIMULATOR_MODE: 'record',
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
    BACKENDS_TABLE: TABLE,
    BACKENDS_REFRESH_SECONDS: '1',
    RECORDING_CONTAINER: `rec${Date.now().toString(36)}`,
    RATE_LIMIT_TABLE: `rl${Date.now().toString(36)}`,
  });
}, 60000);

afterAll(async () => {
  await sim?.close();
  await Promise.all([a?.close(), b?.close(), azurite?.close()]);
  identity?.close();
  process.env.IDENTITY_ENDPOINT = saved.endpoint;
  process.env.IDENTITY_HEADER = saved.header;
});

const ask = (deployment: string, content: string) => post(sim.url, chatPath(deployment), { messages: [{ role: 'user', content }] });

describe('record mode over the backends Table', () => {
  it('spreads a deployment over its active rows, each with its own endpoint, deployment and credential', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await ask('chat', `question ${i}`)).status);
    expect(statuses).toEqual(statuses.map(() => 200));
    // sweden-1 is listed twice: a gets two of every three.
    expect(a.received).toHaveLength(6);
    expect(b.received).toHaveLength(3);
    expect(new Set(a.received.map((r) => r.url.split('?')[0]))).toEqual(new Set(['/openai/deployments/gpt-4o-sweden/chat/completions']));
    expect(new Set(b.received.map((r) => r.url.split('?')[0]))).toEqual(new Set(['/openai/deployments/gpt-4o-east/chat/completions']));
    expect(new Set(a.received.map((r) => r.headers['api-key']))).toEqual(new Set([SECRET_A]));
    // The row without a key: the app's Entra ID token.
    expect(new Set(b.received.map((r) => r.headers.authorization))).toEqual(new Set(['Bearer entra-token-b']));
    expect(b.received.every((r) => r.headers['api-key'] === undefined)).toBe(true);
  });

  it('a deployment without an active row is a 404 that says what to do; a switched-off row serves nothing', async () => {
    for (const deployment of ['other', 'no-such-deployment']) {
      const res = await ask(deployment, 'hello');
      expect(res.status).toBe(404);
      const { error } = await res.json();
      expect(error.code).toBe('DeploymentNotFound');
      expect(error.message).toContain(`No active backend serves the deployment '${deployment}'`);
    }
  });

  it('picks up edits without a restart: a row switched off stops, one added starts', async () => {
    await table.updateEntity({ partitionKey: 'openai-chat', rowKey: 'east-us', Active: false }, 'Merge');
    await table.createEntity(row('new-row', { EndpointUrl: b.url, EndpointKey: 'key-b', DeploymentName: 'gpt-4o-new', SimulatorDeployment: 'fresh' }));
    await new Promise((r) => setTimeout(r, 1300));
    const before = b.received.length;
    for (let i = 0; i < 4; i++) expect((await ask('chat', `after ${i}`)).status).toBe(200);
    expect(b.received.length).toBe(before);
    expect((await ask('fresh', 'hi')).status).toBe(200);
    expect(b.received.at(-1)!.url).toMatch(/^\/openai\/deployments\/gpt-4o-new\//);
  });

  it("lists the recording file and its interactions in the dashboard's data", async () => {
    const data = await (await fetch(`${sim.url}/++/dashboard/data`, { headers: { 'api-key': KEY } })).json();
    expect(data.mode).toBe('record');
    const file = data.recordings.find((r: { file: string }) => r.file === 'openai_deployments_chat_chat_completions.yaml');
    // Every distinct question asked of 'chat' so far, saved (autosave).
    expect(file).toMatchObject({ interactions: 13, unsaved: 0 });
  });

  it('keys appear in no answer, in /++/config or in /++/metrics', async () => {
    const texts = await Promise.all(
      ['/++/config', '/++/metrics', '/++/dashboard/data'].map(async (path) => (await fetch(sim.url + path, { headers: { 'api-key': KEY } })).text()),
    );
    texts.push(await (await ask('chat', 'one more')).text(), await (await ask('other', 'x')).text());
    for (const text of texts) {
      expect(text).not.toContain(SECRET_A);
      expect(text).not.toContain('key-b');
    }
  });
});
