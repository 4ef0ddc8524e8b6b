// AOAI's windows for one deployment, as data: which dimensions a request is counted on (tokens
// per minute; requests per 10 s and per 1 s, or per minute for request-limited models).

const MINUTE = 60000;

/** AOAI's answer for a request that can never fit: retry after a day. */
export const OVERSIZE_RETRY_MS = 86400 * 1000;

export type LimitKind = 'tokens' | 'requests';

export interface Dimension {
  kind: LimitKind;
  windowMs: number;
  limit: number;
  /** Units this request needs: its token cost, or 1 request. */
  amount: number;
}

export interface DeploymentLimits {
  tokensPerMinute?: number;
  requestsPerMinute?: number;
  /** Token-limited model (chat, embeddings), else requests per minute only (whisper, dall-e). */
  tokenLimited: boolean;
}

export interface Admission {
  admitted: boolean;
  /** The instant the request was judged at (epoch ms). */
  now: number;
  /** x-ratelimit-* (and on rejection retry-after*) headers. */
  headers: Record<string, string>;
  reason?: LimitKind;
  retryAfterMs?: number;
  /** The request alone is over a limit: it can never be admitted. */
  oversize?: boolean;
}

export function requestLimits(limits: DeploymentLimits): { rpm: number; per10s: number; per1s: number } | undefined {
  const tpm = limits.tokensPerMinute ?? 0;
  const rpm = limits.requestsPerMinute ?? (limits.tokenLimited ? Math.ceil((6 * tpm) / 1000) : 0);
  if (rpm <= 0) return undefined;
  return { rpm, per10s: Math.ceil(rpm / 6), per1s: Math.ceil(rpm / 60) };
}

/** The dimensions a deployment is limited on, or [] when it is not limited. */
export function deploymentDimensions(limits: DeploymentLimits, tokenCost: number, oneSecond: boolean): Dimension[] {
  const dims: Dimension[] = [];
  const requests = requestLimits(limits);
  if (limits.tokenLimited) {
    if ((limits.tokensPerMinute ?? 0) > 0) dims.push({ kind: 'tokens', windowMs: MINUTE, limit: limits.tokensPerMinute!, amount: tokenCost });
    if (requests) {
      dims.push({ kind: 'requests', windowMs: 10000, limit: requests.per10s, amount: 1 });
      if (oneSecond) dims.push({ kind: 'requests', windowMs: 1000, limit: requests.per1s, amount: 1 });
    }
  } else if (requests) {
    dims.push({ kind: 'requests', windowMs: MINUTE, limit: requests.rpm, amount: 1 });
  }
  return dims;
}
