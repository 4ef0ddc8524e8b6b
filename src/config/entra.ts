// Inbound Entra ID tokens (ENTRA_AUTH): callers that follow Microsoft's keyless guidance send
// `Authorization: Bearer <JWT>` for https://cognitiveservices.azure.com. Off by default.

import { ConfigError } from './errors';

type Env = Record<string, string | undefined>;

export interface EntraConfig {
  /** verify: signature (the tenant's keys), issuer, audience, expiry; unverified: shape, audience, expiry only (offline development). */
  mode: 'verify' | 'unverified';
  /** Where the signing keys are (the tenant's, unless ENTRA_JWKS_URL names others). */
  jwksUrl?: string;
  issuers: string[];
  audiences: string[];
  /** Object or app ids allowed to call; empty: any principal of the tenant. */
  allowedPrincipals: string[];
}

const COGNITIVE_SERVICES = 'https://cognitiveservices.azure.com';
const list = (raw: string | undefined) =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function loadEntra(env: Env): EntraConfig | undefined {
  const mode = env.ENTRA_AUTH?.trim().toLowerCase() || 'off';
  if (mode === 'off') return undefined;
  if (mode !== 'verify' && mode !== 'unverified') throw new ConfigError(`ENTRA_AUTH must be off, verify or unverified; got '${mode}'.`);
  const tenant = env.ENTRA_TENANT_ID?.trim();
  const jwksUrl = env.ENTRA_JWKS_URL?.trim() || (tenant ? `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys` : undefined);
  // v1 tokens (what DefaultAzureCredential gets for this resource) and v2 tokens.
  const issuers = list(env.ENTRA_ISSUER).length
    ? list(env.ENTRA_ISSUER)
    : tenant
      ? [`https://sts.windows.net/${tenant}/`, `https://login.microsoftonline.com/${tenant}/v2.0`]
      : [];
  if (mode === 'verify' && (!jwksUrl || !issuers.length)) {
    throw new ConfigError('ENTRA_AUTH=verify needs ENTRA_TENANT_ID (or ENTRA_JWKS_URL and ENTRA_ISSUER).');
  }
  return {
    mode,
    jwksUrl,
    issuers,
    audiences: [COGNITIVE_SERVICES, `${COGNITIVE_SERVICES}/`, ...list(env.ENTRA_AUDIENCES)],
    allowedPrincipals: list(env.ENTRA_ALLOWED_PRINCIPALS),
  };
}
