// Event codes (EVENTS_TABLE, one row per code, as organisers edit them with Storage Explorer or
// `npm run events`) and their usage per event, attendee and UTC day (EVENT_USAGE_TABLE).

import type { EventStore, UsageRow } from '../events/directory';
import { statusOf, tableClient, type StorageTarget } from './connect';

const MAX_ATTEMPTS = 40;

export function eventTables(target: StorageTarget, tables: { events: string; usage: string }): EventStore {
  const events = tableClient(target, tables.events);
  const usageTable = tableClient(target, tables.usage);
  let usageTableReady: Promise<unknown> | undefined;

  const rowKey = (row: UsageRow) => `${row.day}|${row.attendee.replace(/[/\\#?\u0000-\u001f\u007f]/g, '_') || '-'}`;

  /** Adds a row's counts to the stored ones: read, add, write at that ETag; again on a race. */
  async function mergeRow(row: UsageRow): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let current: { Requests: number; PromptTokens: number; CompletionTokens: number; etag: string } | undefined;
      try {
        current = await usageTable.getEntity<{ Requests: number; PromptTokens: number; CompletionTokens: number }>(row.event, rowKey(row));
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
      const entity = {
        partitionKey: row.event,
        rowKey: rowKey(row),
        Day: row.day,
        Attendee: row.attendee,
        Requests: (current?.Requests ?? 0) + row.requests,
        PromptTokens: (current?.PromptTokens ?? 0) + row.promptTokens,
        CompletionTokens: (current?.CompletionTokens ?? 0) + row.completionTokens,
      };
      try {
        if (current) await usageTable.updateEntity(entity, 'Replace', { etag: current.etag });
        else await usageTable.createEntity(entity);
        return;
      } catch (err) {
        const status = statusOf(err);
        if ((status !== 412 && status !== 409) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  return {
    name: `events table ${tables.events}`,
    async listEvents() {
      const rows: Record<string, unknown>[] = [];
      try {
        for await (const entity of events.listEntities<Record<string, unknown>>()) rows.push(entity);
      } catch (err) {
        if (statusOf(err) !== 404) throw err; // no table yet: no events
      }
      return rows;
    },
    async addUsage(rows) {
      usageTableReady ??= usageTable.createTable().catch((err) => {
        usageTableReady = undefined;
        throw err;
      });
      await usageTableReady;
      await Promise.all(rows.map(mergeRow));
    },
    async listUsage() {
      const rows: UsageRow[] = [];
      try {
        for await (const e of usageTable.listEntities<Record<string, unknown>>()) {
          rows.push({
            event: String(e.partitionKey),
            attendee: String(e.Attendee ?? ''),
            day: String(e.Day ?? ''),
            requests: Number(e.Requests ?? 0),
            promptTokens: Number(e.PromptTokens ?? 0),
            completionTokens: Number(e.CompletionTokens ?? 0),
          });
        }
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
      return rows;
    },
  };
}
