// Which backends serve a request in record mode: the backends Table's active rows for its
// deployment (round-robin, a row listed twice served twice as often; changes picked up within
// the refresh interval), else the configured AZURE_OPENAI_ENDPOINT ones. Keys stay in the
// backends: nothing here logs or reports one.

import type { BackendConfig } from '../../config/backends';
import { backendsTableUnavailable, noActiveBackend } from '../../errors';
import { log } from '../../log';
import { type BackendPool, createBackendPool } from './backends';

export interface BackendRow {
  /** The row's RowKey (a friendly name). */
  name: string;
  url: string;
  /** Absent: Entra ID. */
  key?: string;
  /** The deployment at that endpoint. */
  upstreamDeployment: string;
  /** The deployment clients ask for. */
  deployment: string;
  location?: string;
}

export interface BackendRowSource {
  readonly name: string;
  rows(): Promise<BackendRow[]>;
}

/** The pool for a request's deployment (undefined on routes that name it in the body). */
export type PoolChooser = (deployment: string | undefined) => Promise<BackendPool>;

export function poolChooser(configured: readonly BackendConfig[], source?: BackendRowSource, refreshMs = 10000): PoolChooser {
  const fallback = configured.length ? createBackendPool(configured) : undefined;
  if (!source) return async () => fallback!;
  let rows: BackendRow[] | undefined;
  let readAt = 0;
  let reading: Promise<void> | undefined;
  // Per deployment: its pool, kept (with its round-robin and cooling state) while its rows are unchanged.
  const pools = new Map<string, { signature: string; pool: BackendPool }>();

  const refresh = () =>
    (reading ??= source
      .rows()
      .then(
        (fresh) => {
          rows = fresh;
        },
        (err: unknown) => {
          // The last rows read keep serving; without any, the request is told the table is unavailable.
          log.error(`backends (${source.name}) could not be read: ${(err as Error).message}`);
          if (!rows) throw backendsTableUnavailable(source.name);
        },
      )
      .finally(() => {
        readAt = Date.now();
        reading = undefined;
      }));

  return async (deployment) => {
    if (!rows || Date.now() - readAt >= refreshMs) await refresh();
    const mine = deployment === undefined ? [] : rows!.filter((r) => r.deployment === deployment);
    if (!mine.length) {
      if (fallback) return fallback;
      throw noActiveBackend(deployment ?? '(named in the body)', source.name);
    }
    const signature = JSON.stringify(mine.map((r) => [r.name, r.url, r.key ?? '', r.upstreamDeployment]));
    let entry = pools.get(deployment!);
    if (!entry || entry.signature !== signature) {
      entry = {
        signature,
        pool: createBackendPool(mine.map((r) => ({ url: r.url.replace(/\/+$/, ''), weight: 1, key: r.key, deployment: r.upstreamDeployment }))),
      };
      pools.set(deployment!, entry);
    }
    return entry.pool;
  };
}
