// Time-bound event codes for workshops and hackathons, kept in Table Storage (EVENTS_TABLE), one
// entity per code (RowKey = the code). Attendees send the code as their key (optionally
// `code/attendee-name`); the simulator key keeps working for organisers. Rows are cached per
// instance and re-read every EVENTS_REFRESH_SECONDS, so a disabled code stops working quickly
// without a storage read per request. Usage per event, attendee and UTC day (requests, prompt
// and completion tokens) is summed in memory and merged into EVENTS_USAGE_TABLE every few seconds.

import { AoaiError, unauthorized } from '../errors';
import { log } from '../log';

export interface EventInfo {
  code: string;
  name: string;
  active: boolean;
  start: number;
  end: number;
  maxTokenCap?: number;
  dailyRequestCap?: number;
  /** Deployments the event may use; undefined: all. */
  deployments?: string[];
  contactName?: string;
  contactEmail?: string;
}

export interface EventIdentity {
  event: EventInfo;
  /** From `code/attendee`; '' when the attendee did not name themselves. */
  attendee: string;
}

export interface UsageRow {
  event: string;
  attendee: string;
  day: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

export const CODE_PATTERN = /^[^/\\#?\u0000-\u001f\u007f]{6,40}$/;
const MISS_REFRESH_MS = 5000;

const eventRefused = (message: string) => new AoaiError(401, { error: { code: '401', message } });

/** An entity as Storage Explorer or the CLI wrote it: booleans, numbers and dates may be typed or strings. */
export function eventFromEntity(entity: Record<string, unknown>): EventInfo | undefined {
  const code = String(entity.rowKey ?? '');
  if (!CODE_PATTERN.test(code)) return undefined;
  const time = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : NaN);
  const int = (v: unknown) => {
    const n = typeof v === 'string' ? Number(v) : v;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const start = time(entity.StartUTC);
  const end = time(entity.EndUTC);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return undefined;
  const deployments =
    typeof entity.Deployments === 'string' && entity.Deployments.trim()
      ? entity.Deployments.split(',')
          .map((d) => d.trim())
          .filter(Boolean)
      : undefined;
  return {
    code,
    start,
    end,
    deployments,
    name: String(entity.EventName ?? code),
    active: entity.Active === true || String(entity.Active).toLowerCase() === 'true',
    maxTokenCap: int(entity.MaxTokenCap) || undefined,
    dailyRequestCap: int(entity.DailyRequestCap),
    contactName: typeof entity.ContactName === 'string' ? entity.ContactName : undefined,
    contactEmail: typeof entity.ContactEmail === 'string' ? entity.ContactEmail : undefined,
  };
}

export interface EventDirectory {
  /** The identity for a supplied key, or throws a 401 saying why (never naming other events). */
  authenticate(supplied: string, now?: number): EventIdentity | Promise<EventIdentity>;
  /** Counts one answered request (and its tokens) for an attendee. */
  count(identity: EventIdentity, promptTokens: number, completionTokens: number, now?: number): void;
  /** Writes counts not yet in storage. */
  flush(): Promise<void>;
  /** Every usage row in storage (after a flush). */
  usage(): Promise<UsageRow[]>;
  close(): Promise<void>;
}

/** Where events and their usage are kept (src/storage/event-tables.ts). */
export interface EventStore {
  /** For messages, e.g. `events table events`. */
  readonly name: string;
  /** Every event row as stored (none when the table does not exist yet). */
  listEvents(): Promise<Record<string, unknown>[]>;
  /** Adds each row's counts to the stored ones. */
  addUsage(rows: readonly UsageRow[]): Promise<void>;
  listUsage(): Promise<UsageRow[]>;
}

export function eventDirectory(store: EventStore, refreshMs: number, flushMs = 5000): EventDirectory {
  let byCode = new Map<string, EventInfo>();
  let loadedAt = 0;
  let loading: Promise<void> | undefined;
  const pending = new Map<string, UsageRow>();
  let flushing: Promise<void> | undefined;

  function load(): Promise<void> {
    loading ??= (async () => {
      try {
        const next = new Map<string, EventInfo>();
        for (const entity of await store.listEvents()) {
          const info = eventFromEntity(entity);
          if (info) next.set(info.code, info);
        }
        byCode = next;
      } catch (err) {
        log.error(`${store.name} could not be read: ${(err as Error).message}`);
      } finally {
        loadedAt = Date.now();
        loading = undefined;
      }
    })();
    return loading;
  }
  const timer = setInterval(() => void load(), refreshMs);
  timer.unref();
  const flushTimer = setInterval(() => void flush(), flushMs);
  flushTimer.unref();
  void load();

  function judge(supplied: string, now: number): EventIdentity {
    const slash = supplied.indexOf('/');
    const code = slash < 0 ? supplied : supplied.slice(0, slash);
    const attendee =
      slash < 0
        ? ''
        : supplied
            .slice(slash + 1)
            .trim()
            .slice(0, 100);
    const event = byCode.get(code);
    if (!event) throw unauthorized();
    if (!event.active) throw eventRefused(`The event code for '${event.name}' is not active.`);
    if (now < event.start) throw eventRefused(`The event '${event.name}' has not started; it starts at ${new Date(event.start).toISOString()}.`);
    if (now >= event.end) throw eventRefused(`The event '${event.name}' has ended; it ended at ${new Date(event.end).toISOString()}.`);
    return { event, attendee };
  }

  async function flush(): Promise<void> {
    if (flushing !== undefined) return flushing;
    if (!pending.size) return;
    const batch = [...pending.values()];
    pending.clear();
    flushing = (async () => {
      try {
        await store.addUsage(batch);
      } catch (err) {
        log.error(`event usage not written to ${store.name} (kept for the next try): ${(err as Error).message}`);
        for (const row of batch) add(row);
      } finally {
        flushing = undefined;
      }
    })();
    return flushing;
  }

  function add(row: UsageRow): void {
    const key = `${row.event}\u0000${row.day}\u0000${row.attendee}`;
    const sum = pending.get(key);
    if (!sum) pending.set(key, { ...row });
    else {
      sum.requests += row.requests;
      sum.promptTokens += row.promptTokens;
      sum.completionTokens += row.completionTokens;
    }
  }

  return {
    authenticate(supplied, now = Date.now()) {
      const code = supplied.split('/')[0];
      if (!CODE_PATTERN.test(code)) throw unauthorized();
      // Not loaded yet, or a code not seen (it may have just been added): look again, at most every few seconds.
      if (loadedAt === 0 || (!byCode.has(code) && Date.now() - loadedAt > MISS_REFRESH_MS)) {
        return load().then(() => judge(supplied, now));
      }
      return judge(supplied, now);
    },
    count(identity, promptTokens, completionTokens, now = Date.now()) {
      add({
        event: identity.event.code,
        attendee: identity.attendee,
        day: new Date(now).toISOString().slice(0, 10),
        requests: 1,
        promptTokens,
        completionTokens,
      });
    },
    flush,
    async usage() {
      await flush();
      return store.listUsage();
    },
    async close() {
      clearInterval(timer);
      clearInterval(flushTimer);
      await flush();
    },
  };
}
