// Entra ID bearer tokens, checked as AOAI checks them: the signature against the tenant's
// signing keys (fetched once, refreshed by jose on an unknown key id), issuer, audience and
// expiry (60 s of skew); optionally an allow-list of object or app ids. jose loads on first use.

import type { EntraConfig } from '../config/entra';
import { invalidToken, principalNotAllowed } from '../errors';

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' }});
type Claims = { oid?: string; appid?: string; azp?: string; sub?: string };

const CLOCK_SKEW_SECONDS = 60;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A bearer value that is a JWT, not a key or an event code. */
export const looksLikeJwt = (value: string) => JWT_SHAPE.test(value) && value.startsWith('eyJ');

export interface EntraVerifier {
  /** The caller's principal (oid, else app id), or AOAI's 401. */
  verify(token: string, request: Request): Promise<string>;
}

export function entraVerifier(config: EntraConfig): EntraVerifier {
  let jose: Jose | undefined;
  let keys: ReturnType<Jose['createRemoteJWKSet']> | undefined;
  const load = () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jose ??= require('jose') as Jose;
    if (config.mode === 'verify') keys ??= jose.createRemoteJWKSet(new URL(config.jwksUrl!), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    return jose;
  };

  async function claimsOf(token: string): Promise<Claims> {
    const j = load();
    try {
      if (config.mode === 'verify') {
        const { payload } = await j.jwtVerify(token, keys!, {
          issuer: config.issuers,
          audience: config.audiences,
          clockTolerance: CLOCK_SKEW_SECONDS,
          requiredClaims: ['exp'],
        });
        return payload as Claims;
      }
      // Unverified (offline development): the shape, audience and expiry still count.
      const payload = j.decodeJwt(token);
      const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!audiences.some((a) => a !== undefined && config.audiences.includes(a))) throw new Error('audience');
      if (typeof payload.exp !== 'number' || payload.exp + CLOCK_SKEW_SECONDS < Date.now() / 1000) throw new Error('expired');
      return payload as Claims;
    } catch {
      throw invalidToken();
    }
  }

  return {
    async verify(token, request) {
      const claims = await claimsOf(token);
      const principal = claims.oid ?? claims.appid ?? claims.azp ?? claims.sub ?? 'unknown';
      const allowed = config.allowedPrincipals;
      if (allowed.length && ![claims.oid, claims.appid, claims.azp].some((id) => id !== undefined && allowed.includes(id))) {
        throw principalNotAllowed(principal, request.method, new URL(request.url).pathname);
      }
      return principal;
    },
  };
}
