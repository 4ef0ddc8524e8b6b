// Storage by identity, as on an account whose shared keys are disabled: no connection string,
// the host's AzureWebJobsStorage__blobServiceUri / __tableServiceUri / __credential settings, and
// a managed identity (IDENTITY_ENDPOINT on loopback) handing out Entra ID tokens. Azurite runs
// with HTTPS and its basic OAuth, which refuses requests without a valid bearer token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzuriteOAuth } from '../loadtest/azurite';
import { deploymentsFile, startSimulatorProcess, type ServerProcess } from '../loadtest/processes';
import { KEY } from './helpers';

const TLS = join(__dirname, 'fixtures', 'tls');
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A token as Entra ID issues one for Storage (Azurite's basic OAuth checks audience, issuer and lifetime). */
const storageToken = () => {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    aud: 'https://storage.azure.com',
    iss: 'https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/',
    nbf: now - 60,
    iat: now - 60,
    exp: now + 3600,
    oid: 'app-identity',
  };
  return `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}.c2lnbmF0dXJl`;
};

let azurite: Awaited<ReturnType<typeof startAzuriteOAuth>>;
let identity: Server;
const tokenRequests: string[] = [];
let instances: ServerProcess[];

beforeAll(async () => {
  azurite = await startAzuriteOAuth(join(TLS, 'cert.pem'), join(TLS, 'key.pem'));
  identity = createServer((req, res) => {
    tokenRequests.push(`${req.url} ${req.headers['x-identity-header']}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        access_token: storageToken(),
        token_type: 'Bearer',
        resource: 'https://storage.azure.com',
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      }),
    );
  });
  await new Promise<void>((r) => identity.listen(0, '127.0.0.1', r));
  const env = {
    SIMULATOR_API_KEY: KEY,
    SIMULATOR_LATENCY: 'off',
    AzureWebJobsStorage__blobServiceUri: azurite.blobServiceUri,
    AzureWebJobsStorage__tableServiceUri: azurite.tableServiceUri,
    AzureWebJobsStorage__credential: 'managedidentity',
    IDENTITY_ENDPOINT: `http://127.0.0.1:${(identity.address() as AddressInfo).port}/msi/token`,
    IDENTITY_HEADER: 'identity-secret',
    NODE_TLS_REJECT_UNAUTHORIZED: '0',
    RATE_LIMIT_ONE_SECOND_WINDOW: 'false',
    OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile({ shared: { model: 'gpt-4o', tokensPerMinute: 100_000, requestsPerMinute: 12 } }),
  };
  instances = await Promise.all([startSimulatorProcess(env), startSimulatorProcess(env)]);
}, 60_000);
afterAll(async () => {
  await Promise.all((instances ?? []).map((i) => i.stop()));
  identity?.close();
  await azurite?.close();
});

describe('storage by identity (Azurite over HTTPS with OAuth)', () => {
  it('two instances share rate-limit windows and stored responses through it', async () => {
    const clients = instances.map((i) => new OpenAI({ baseURL: `${i.url}/openai/v1/`, apiKey: KEY, maxRetries: 0 }));
    // 12 RPM = 2 requests per 10 s, shared: the third (back on the first instance) is a 429;
    // with per-instance counting it would have been its second, and admitted.
    // Not across a 10 s window boundary.
    if (10_000 - (Date.now() % 10_000) < 2000) await new Promise((r) => setTimeout(r, 10_000 - (Date.now() % 10_000) + 50));
    const statuses: number[] = [];
    for (const client of [clients[0], clients[1], clients[0]]) {
      const raw = await client.chat.completions
        .create({ model: 'shared', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
        .withResponse()
        .then(
          (r) => r.response.status,
          (err: { status: number }) => err.status,
        );
      statuses.push(raw);
    }
    expect(statuses).toEqual([200, 200, 429]);
    const created = await clients[0].responses.create({ model: 'gpt-4o', input: 'remember this', max_output_tokens: 20 });
    expect((await clients[1].responses.retrieve(created.id)).output_text).toBe(created.output_text);
    // The managed identity was asked for Storage tokens (one per instance, reused).
    expect(tokenRequests.length).toBeGreaterThanOrEqual(2);
    expect(tokenRequests.every((r) => r.includes('resource=https%3A%2F%2Fstorage.azure.com') && r.endsWith(' identity-secret'))).toBe(true);
  });
});
