// Counters in Azure Table Storage, shared by every instance: one entity per (scope, window),
// PartitionKey = scope, RowKey = window, property `used`. Every change is an ETag-conditional
// write, so grants never sum past the limit however many instances race.

import type { TableEntity } from '@azure/data-tables';
import type { CounterKey, CounterStore, Take } from '../limits/counters';
import { isGone, statusOf, tableClient, type StorageTarget } from './connect';

const MAX_ATTEMPTS = 40;
// Expired windows are deleted lazily, at most once a minute per scope and instance.
const CLEANUP_EVERY_MS = 60000;

interface Counter {
  used: number;
  etag: string;
}

type Entity = TableEntity<{ used: number; expiresAt: number }>;

/** Table keys may not contain / \ # ? or control characters. */
export const tableKey = (s: string) => s.replace(/[/\\#?\u0000-\u001f\u007f-\u009f]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));

export function tableCounterStore(target: StorageTarget, tableName = 'ratelimits'): CounterStore {
  const client = tableClient(target, tableName);
  const known = new Map<string, Counter>();
  const lastCleanup = new Map<string, number>();
  let operations = 0;
  let tableReady: Promise<void> | undefined;

  const ensureTable = () =>
    (tableReady ??= (async () => {
      operations++;
      try {
        await client.createTable();
      } catch (err) {
        if (statusOf(err) !== 409) {
          tableReady = undefined;
          throw err;
        }
      }
    })());

  async function read(pk: string, rk: string): Promise<Counter | undefined> {
    operations++;
    try {
      const e = await client.getEntity<Entity>(pk, rk);
      return { used: Number(e.used) || 0, etag: e.etag };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Applies `change` (current used → new used, or undefined for no write) with CAS retries. */
  async function update(key: CounterKey, change: (used: number) => number | undefined): Promise<number> {
    await ensureTable();
    const pk = tableKey(key.scope),
      rk = tableKey(key.window),
      id = `${pk}\u0000${rk}`;
    let current = known.get(id);
    let fresh = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!current) {
        current = await read(pk, rk);
        fresh = true;
      }
      const next = change(current?.used ?? 0);
      if (next === undefined) {
        // A cached counter may be stale (others gave units back): confirm before saying no.
        if (!fresh) {
          current = undefined;
          continue;
        }
        return current?.used ?? 0;
      }
      operations++;
      try {
        const entity = { partitionKey: pk, rowKey: rk, used: next, expiresAt: key.expiresAt };
        const res = current ? await client.updateEntity(entity, 'Replace', { etag: current.etag }) : await client.createEntity(entity);
        known.set(id, { used: next, etag: res.etag! });
        if (known.size > 10000) known.clear();
        return next;
      } catch (err) {
        const status = statusOf(err);
        if (isGone(err)) {
          // The table was lost (Azurite restarted empty, the account reset): make it again.
          tableReady = undefined;
          known.clear();
          await ensureTable();
          current = undefined;
          continue;
        }
        if (status !== 412 && status !== 409 && status !== 404) throw err;
        current = undefined; // someone else wrote (or the entity vanished): read again
        fresh = false;
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
    throw new Error(`rate-limit counter ${key.scope}/${key.window}: too much contention`);
  }

  function cleanup(scope: string): void {
    const now = Date.now();
    if (now - (lastCleanup.get(scope) ?? 0) < CLEANUP_EVERY_MS) return;
    lastCleanup.set(scope, now);
    void (async () => {
      const pk = tableKey(scope);
      for await (const e of client.listEntities<Entity>({
        queryOptions: { filter: `PartitionKey eq '${pk.replace(/'/g, "''")}' and expiresAt lt ${now - 60000}` },
      })) {
        operations += 2;
        await client.deleteEntity(pk, e.rowKey!).catch(() => undefined);
        known.delete(`${pk}\u0000${e.rowKey}`);
      }
    })().catch(() => undefined);
  }

  // One change at a time per counter from this instance: its own requests never race each other.
  const queues = new Map<string, Promise<unknown>>();
  function serialised<T>(key: CounterKey, work: () => Promise<T>): Promise<T> {
    const id = `${key.scope}\u0000${key.window}`;
    const run = (queues.get(id) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    queues.set(id, tail);
    void tail.then(() => {
      if (queues.get(id) === tail) queues.delete(id);
    });
    return run;
  }

  return {
    name: `table:${tableName}`,
    get operations() {
      return operations;
    },
    async take(key, want, limit): Promise<Take> {
      cleanup(key.scope);
      return serialised(key, async () => {
        let granted = 0;
        const used = await update(key, (u) => {
          granted = Math.max(0, Math.min(want, limit - u));
          return granted > 0 ? u + granted : undefined;
        });
        return { granted, remaining: Math.max(0, limit - used) };
      });
    },
    async give(key, amount) {
      if (amount <= 0) return;
      await serialised(key, () => update(key, (u) => Math.max(0, u - amount)));
    },
  };
}
