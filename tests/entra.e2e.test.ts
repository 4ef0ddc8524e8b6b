// Inbound Entra ID tokens: a JWKS served on loopback, tokens signed with a test key, the openai
// client with azureADTokenProvider, and each refusal with the 401 AOAI sends; keys and event
// codes keep working beside it; the unverified mode for offline development.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, chatPath, KEY, post, startSimulator, type TestSimulator } from './helpers';

const TENANT_ISSUER = 'https://sts.windows.net/test-tenant/';
const AUDIENCE = 'https://cognitiveservices.azure.com';
const ALLOWED = 'allowed-object-id';
let jwks: Server;
let jwksUrl: string;
let signingKey: CryptoKey;
let otherKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  signingKey = pair.privateKey as CryptoKey;
  otherKey = other.privateKey as CryptoKey;
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'test-kid', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/keys`;
});
afterAll(() => new Promise<void>((r) => jwks.close(() => r())));

interface TokenOptions {
  aud?: string;
  iss?: string;
  expiresIn?: string | number;
  key?: CryptoKey;
  kid?: string;
  oid?: string;
}
const token = ({ aud = AUDIENCE, iss = TENANT_ISSUER, expiresIn = '1h', key, kid = 'test-kid', oid = ALLOWED }: TokenOptions = {}) =>
  new SignJWT({ oid, appid: 'test-app' })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuer(iss)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key ?? signingKey);

/** A chat with only `Authorization: Bearer <token>` (no api-key), as keyless clients send it. */
const chat = (sim: TestSimulator, bearer: string) =>
  fetch(sim.url + chatPath('gpt-4o'), {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }),
  });

describe('ENTRA_AUTH=verify', () => {
  let sim: TestSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ ENTRA_AUTH: 'verify', ENTRA_JWKS_URL: jwksUrl, ENTRA_ISSUER: TENANT_ISSUER, ENTRA_ALLOWED_PRINCIPALS: ALLOWED });
  });
  afterAll(() => sim.close());

  it('the openai client with azureADTokenProvider is answered; the key still works', async () => {
    const client = new AzureOpenAI({ endpoint: sim.url, apiVersion: API_VERSION, deployment: 'gpt-4o', azureADTokenProvider: () => token(), maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    expect(answer.object).toBe('chat.completion');
    expect((await post(sim.url, chatPath('gpt-4o'), { messages: [{ role: 'user', content: 'hi' }] }, { 'api-key': KEY })).status).toBe(200);
  });

  const refusals: [string, () => Promise<string>, string][] = [
    ['a wrong audience', () => token({ aud: 'https://management.azure.com' }), '401'],
    ['an expired token', () => token({ expiresIn: Math.floor(Date.now() / 1000) - 600 }), '401'],
    ['a wrong issuer', () => token({ iss: 'https://sts.windows.net/other-tenant/' }), '401'],
    ['a bad signature', () => token({ key: otherKey }), '401'],
    ['an unknown key id', () => token({ kid: 'unknown-kid' }), '401'],
    ['a principal not on the allow-list', () => token({ oid: 'someone-else' }), 'PermissionDenied'],
  ];
  for (const [name, make, code] of refusals) {
    it(`refuses ${name} with AOAI's 401`, async () => {
      const response = await chat(sim, await make());
      expect(response.status).toBe(401);
      const body = await response.json();
      expect(body.error.code).toBe(code);
      if (code === '401') expect(body.error.message).toMatch(/^Unauthorized\. Access token is missing, invalid, audience is incorrect/);
      else expect(body.error.message).toContain('someone-else');
    });
  }
});

describe('ENTRA_AUTH=unverified (offline development)', () => {
  it('accepts any signature, still refuses a wrong audience or an expired token', async () => {
    const sim = await startSimulator({ ENTRA_AUTH: 'unverified' });
    try {
      expect((await chat(sim, await token({ key: otherKey, kid: 'whatever' }))).status).toBe(200);
      expect((await chat(sim, await token({ aud: 'https://graph.microsoft.com' }))).status).toBe(401);
      expect((await chat(sim, await token({ expiresIn: Math.floor(Date.now() / 1000) - 600 }))).status).toBe(401);
    } finally {
      await sim.close();
    }
  });

  it('without ENTRA_AUTH a token is just a wrong key', async () => {
    const sim = await startSimulator();
    try {
      const response = await chat(sim, await token());
      expect(response.status).toBe(401);
      expect((await response.json()).error.message).toMatch(/^Access denied due to invalid subscription key/);
    } finally {
      await sim.close();
    }
  });
});
