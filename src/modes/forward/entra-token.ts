// Record mode's Entra ID credential for AOAI: a token from DefaultAzureCredential (the app's
// managed identity in Azure), cached until five minutes before it expires; loaded only when a backend has no key.

import type { TokenCredential } from '@azure/identity';
import { badGateway } from '../../errors';

const ENTRA_SCOPE = 'https://cognitiveservices.azure.com/.default';

/** An Entra ID token for AOAI from DefaultAzureCredential (loaded only when a backend has no key). */
export function entraToken(): () => Promise<string> {
  let credential: TokenCredential | undefined;
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  return () => {
    if (cached && Date.now() < cached.refreshAt) return Promise.resolve(cached.token);
    pending ??= (async () => {
      try {
        if (!credential) {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const identity = require('@azure/identity') as typeof import('@azure/identity');
          credential = new identity.DefaultAzureCredential();
        }
        const token = await credential.getToken(ENTRA_SCOPE);
        if (!token) throw new Error('no token returned');
        cached = { token: token.token, refreshAt: token.expiresOnTimestamp - 5 * 60_000 };
        return token.token;
      } catch (err) {
        throw badGateway(
          `Could not get an Entra ID token for Azure OpenAI (set AZURE_OPENAI_KEY, or give this app an identity with access): ${(err as Error).message}`,
        );
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };
}
