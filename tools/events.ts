// `npm run events -- <command>`: manage event codes in Table Storage (the same rows Storage
// Explorer shows), using AZURE_STORAGE_CONNECTION_STRING (or AzureWebJobsStorage).
//
//   add <code> --name "Hack Day" --start 2026-12-01T09:00Z --end 2026-12-01T17:00Z --max-tokens 512
//       [--daily-cap 500] [--deployments gpt-4o,text-embedding-3-small] [--contact-name ...] [--contact-email ...]
//   list                     every event, with its window and caps
//   disable <code> / enable <code>
//   usage [code]             requests and tokens per event, attendee and day

import { parseArgs } from 'node:util';
import { TableClient } from '@azure/data-tables';
import { CODE_PATTERN, eventDirectory, eventFromEntity } from '../src/events/directory';
import { eventTables } from '../src/storage/event-tables';

const PARTITION = 'event';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const connection = process.env.AZURE_STORAGE_CONNECTION_STRING?.trim() || process.env.AzureWebJobsStorage?.trim();
  if (!connection) fail('Set AZURE_STORAGE_CONNECTION_STRING (or AzureWebJobsStorage) to the storage account that holds the events table.');
  const tableName = process.env.EVENTS_TABLE?.trim() || 'events';
  const table = TableClient.fromConnectionString(connection, tableName, { allowInsecureConnection: true });
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      'max-tokens': { type: 'string' },
      'daily-cap': { type: 'string' },
      deployments: { type: 'string' },
      'contact-name': { type: 'string' },
      'contact-email': { type: 'string' },
    },
  });
  const [command, code] = positionals;
  const needCode = () => {
    if (!code || !CODE_PATTERN.test(code)) fail('An event code is 6-40 characters, none of / \\ # ? or control characters.');
    return code;
  };
  switch (command) {
    case 'add': {
      const c = needCode();
      const start = Date.parse(values.start ?? '');
      const end = Date.parse(values.end ?? '');
      if (!values.name || !Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
        fail('add needs --name, and --start and --end as ISO times with end after start.');
      }
      const maxTokens = Number(values['max-tokens']);
      if (!Number.isInteger(maxTokens) || maxTokens < 1) fail('add needs --max-tokens, a whole number >= 1.');
      const dailyCap = values['daily-cap'] === undefined ? undefined : Number(values['daily-cap']);
      if (dailyCap !== undefined && (!Number.isInteger(dailyCap) || dailyCap < 0)) fail('--daily-cap must be a whole number >= 0.');
      await table.createTable().catch((err) => {
        if (err.statusCode !== 409) throw err;
      });
      await table.upsertEntity(
        {
          partitionKey: PARTITION,
          rowKey: c,
          Active: true,
          EventName: values.name,
          StartUTC: new Date(start),
          EndUTC: new Date(end),
          MaxTokenCap: maxTokens,
          ContactName: values['contact-name'] ?? '',
          ContactEmail: values['contact-email'] ?? '',
          ...(dailyCap !== undefined ? { DailyRequestCap: dailyCap } : {}),
          ...(values.deployments ? { Deployments: values.deployments } : {}),
        },
        'Replace',
      );
      console.log(`event ${c} (${values.name}) saved: ${new Date(start).toISOString()} to ${new Date(end).toISOString()}`);
      break;
    }
    case 'enable':
    case 'disable': {
      const c = needCode();
      const rows = [];
      for await (const e of table.listEntities({ queryOptions: { filter: `RowKey eq '${c.replace(/'/g, "''")}'` } })) rows.push(e);
      if (!rows.length) fail(`no event ${c}`);
      for (const row of rows) await table.updateEntity({ partitionKey: row.partitionKey!, rowKey: c, Active: command === 'enable' }, 'Merge');
      console.log(`event ${c} ${command}d`);
      break;
    }
    case 'list': {
      const lines = [['code', 'name', 'active', 'start (UTC)', 'end (UTC)', 'max tokens', 'daily cap', 'deployments']];
      try {
        for await (const e of table.listEntities<Record<string, unknown>>()) {
          const info = eventFromEntity(e);
          if (!info) continue;
          lines.push([
            info.code,
            info.name,
            String(info.active),
            new Date(info.start).toISOString(),
            new Date(info.end).toISOString(),
            String(info.maxTokenCap ?? '-'),
            String(info.dailyRequestCap ?? '-'),
            info.deployments?.join(',') ?? 'all',
          ]);
        }
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
      printTable(lines);
      break;
    }
    case 'usage': {
      const directory = eventDirectory(
        eventTables(connection, { events: tableName, usage: process.env.EVENTS_USAGE_TABLE?.trim() || 'eventusage' }),
        3_600_000,
      );
      const rows = (await directory.usage()).filter((r) => !code || r.event === code);
      await directory.close();
      printTable([
        ['event', 'attendee', 'day', 'requests', 'prompt tokens', 'completion tokens'],
        ...rows.map((r) => [r.event, r.attendee || '-', r.day, String(r.requests), String(r.promptTokens), String(r.completionTokens)]),
      ]);
      break;
    }
    default:
      fail(
        'usage: npm run events -- add <code> --name ... --start ... --end ... --max-tokens N [--daily-cap N] [--deployments a,b] | list | enable <code> | disable <code> | usage [code]',
      );
  }
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
