// Upstream AOAI endpoints for record mode. AZURE_OPENAI_ENDPOINT lists one or more, comma
// separated, each optionally with `;weight=N` and `;key=...`:
//   AZURE_OPENAI_ENDPOINT=https://a.openai.azure.com/;weight=3, https://b.openai.azure.com/
//   AZURE_OPENAI_KEY=key-a,key-b        (by position; a single key serves all; none: Entra ID)
// Requests are spread by smooth weighted round-robin; a backend that answered 429 or 5xx (or
// could not be reached) cools down for its retry-after and is skipped meanwhile.

export interface BackendConfig {
  url: string;
  weight: number;
  /** Absent: authenticate with Entra ID (DefaultAzureCredential). */
  key?: string;
  /** The deployment to ask for there, when it differs from the client's (backends Table rows). */
  deployment?: string;
}

export class BackendConfigError extends Error {}

export function parseBackends(endpoints: string | undefined, keys: string | undefined): BackendConfig[] {
  const entries = (endpoints ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const keyList = (keys ?? '').split(',').map((s) => s.trim());
  if (keyList.length > 1 && keyList.length !== entries.length) {
    throw new BackendConfigError(`AZURE_OPENAI_KEY lists ${keyList.length} keys for ${entries.length} endpoints; give one key, or one per endpoint.`);
  }
  return entries.map((entry, i) => {
    const [rawUrl, ...options] = entry.split(';').map((s) => s.trim());
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new BackendConfigError(`AZURE_OPENAI_ENDPOINT: '${rawUrl}' is not a URL.`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new BackendConfigError(`AZURE_OPENAI_ENDPOINT: '${rawUrl}' must be an http(s) URL.`);
    }
    const backend: BackendConfig = { url: url.href.replace(/\/+$/, ''), weight: 1, key: (keyList.length > 1 ? keyList[i] : keyList[0]) || undefined };
    for (const option of options.filter(Boolean)) {
      const at = option.indexOf('=');
      const name = option.slice(0, at).trim().toLowerCase();
      const value = option.slice(at + 1).trim();
      if (at < 0 || (name !== 'weight' && name !== 'key')) {
        throw new BackendConfigError(`AZURE_OPENAI_ENDPOINT: unknown option '${option}' for ${rawUrl} (use weight=N or key=...).`);
      }
      if (name === 'key') backend.key = value || undefined;
      else {
        const weight = Number(value);
        if (!Number.isInteger(weight) || weight < 1 || weight > 1000) {
          throw new BackendConfigError(`AZURE_OPENAI_ENDPOINT: weight for ${rawUrl} must be an integer from 1 to 1000; got '${value}'.`);
        }
        backend.weight = weight;
      }
    }
    return backend;
  });
}
