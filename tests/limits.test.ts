// The CounterStore contract, run against both stores (Table Storage on real Azurite), and the
// limiter's exact values under an injected clock.

import { TableServiceClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiter, OVERSIZE_RETRY_MS, type DeploymentLimits } from '../src/limits/limiter';
import { memoryCounterStore, type CounterKey, type CounterStore } from '../src/limits/counters';
import { tableCounterStore } from '../src/storage/counter-table';
import { startAzuriteTables, type Azurite } from '../loadtest/azurite';

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzuriteTables();
});
afterAll(async () => {
  await azurite.close();
});

let tables = 0;
const stores: Record<string, () => [CounterStore, CounterStore]> = {
  memory: () => {
    const s = memoryCounterStore();
    return [s, s];
  },
  // Two clients on one table: two instances of the simulator.
  table: () => {
    const name = `limits${Date.now() % 100000}${tables++}`;
    return [tableCounterStore(azurite.connectionString, name), tableCounterStore(azurite.connectionString, name)];
  },
};

const key = (window: string, scope = 'dep/1#x'): CounterKey => ({ scope, window, expiresAt: Date.now() + 60000 });

for (const [name, make] of Object.entries(stores)) {
  describe(`CounterStore contract: ${name}`, () => {
    it('grants up to the limit, never past it', async () => {
      const [a] = make();
      expect(await a.take(key('w1'), 40, 100)).toEqual({ granted: 40, remaining: 60 });
      expect(await a.take(key('w1'), 50, 100)).toEqual({ granted: 50, remaining: 10 });
      expect(await a.take(key('w1'), 50, 100)).toEqual({ granted: 10, remaining: 0 });
      expect(await a.take(key('w1'), 1, 100)).toEqual({ granted: 0, remaining: 0 });
    });

    it('keeps windows and scopes apart', async () => {
      const [a] = make();
      await a.take(key('w2'), 100, 100);
      expect((await a.take(key('w3'), 5, 100)).granted).toBe(5);
      expect((await a.take(key('w2', 'other'), 5, 100)).granted).toBe(5);
    });

    it('takes back what is given, seen by another instance', async () => {
      const [a, b] = make();
      expect((await a.take(key('w4'), 100, 100)).granted).toBe(100);
      expect((await b.take(key('w4'), 10, 100)).granted).toBe(0);
      await a.give(key('w4'), 30);
      expect(await b.take(key('w4'), 50, 100)).toEqual({ granted: 30, remaining: 0 });
    });

    it('counts on when the store loses its tables (an emulator or account restarted empty)', async () => {
      const [a, b] = make();
      expect((await a.take(key('w6'), 30, 100)).granted).toBe(30);
      if (name === 'table') {
        // Every table of the account goes, as when Azurite restarts with in-memory persistence.
        const service = TableServiceClient.fromConnectionString(azurite.connectionString, { allowInsecureConnection: true });
        for await (const table of service.listTables()) await service.deleteTable(table.name!);
        // A new, empty table: counting starts again from nothing, on both instances.
        expect(await a.take(key('w6'), 30, 100)).toEqual({ granted: 30, remaining: 70 });
        expect(await b.take(key('w6'), 30, 100)).toEqual({ granted: 30, remaining: 40 });
      } else {
        expect((await b.take(key('w6'), 30, 100)).granted).toBe(30);
      }
    });

    it('never grants more than the limit to concurrent instances', async () => {
      const [a, b] = make();
      const takes = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).take(key('w5'), 7, 200));
      const granted = (await Promise.all(takes)).reduce((s, t) => s + t.granted, 0);
      expect(granted).toBe(200);
      expect(a.operations + (a === b ? 0 : b.operations)).toBeGreaterThan(0);
    });
  });
}

describe('limiter: exact values with an injected clock', () => {
  // t0 is 12.5 s into a minute (and 2.5 s into a 10 s window, 0.5 s into a second).
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 12, 500);
  let clock = t0;
  const make = (store = memoryCounterStore()) => createLimiter({ store, now: () => clock });
  const chat = (tpm: number, rpm?: number): DeploymentLimits => ({ tokensPerMinute: tpm, requestsPerMinute: rpm, tokenLimited: true });

  it('reports remaining tokens and requests after each admission', async () => {
    clock = t0;
    const limiter = make();
    const limits = chat(100, 600);
    const first = await limiter.admit('d', limiter.dimensions(limits, 5));
    expect(first.admitted).toBe(true);
    expect(first.headers).toEqual({
      'x-ratelimit-limit-tokens': '100',
      'x-ratelimit-remaining-tokens': '95',
      'x-ratelimit-limit-requests': '100',
      'x-ratelimit-remaining-requests': '99',
    });
    const second = await limiter.admit('d', limiter.dimensions(limits, 20));
    expect(second.headers['x-ratelimit-remaining-tokens']).toBe('75');
    expect(second.headers['x-ratelimit-remaining-requests']).toBe('98');
    limiter.stop();
  });

  it('close() hands back every unused lease at once, so another instance can use it', async () => {
    clock = t0;
    const store = memoryCounterStore();
    const [a, b] = [make(store), make(store)];
    const limits = chat(10_000, 6000);
    expect((await a.admit('d', a.dimensions(limits, 10))).admitted).toBe(true);
    // a leased more than it spent; without a hand-back b could not have the whole rest at once.
    await a.close();
    const rest = await b.admit('d', b.dimensions(limits, 10_000 - 10));
    expect(rest.admitted).toBe(true);
    expect(rest.headers['x-ratelimit-remaining-tokens']).toBe('0');
    b.stop();
  });

  it('rejects when the minute budget is spent, with the time to the minute boundary', async () => {
    clock = t0;
    const limiter = make();
    const limits = chat(100, 600);
    expect((await limiter.admit('d', limiter.dimensions(limits, 60))).admitted).toBe(true);
    clock = t0 + 1000;
    const rejected = await limiter.admit('d', limiter.dimensions(limits, 50));
    expect(rejected).toMatchObject({ admitted: false, reason: 'tokens', retryAfterMs: 46500 });
    expect(rejected.headers).toMatchObject({
      'retry-after': '47',
      'retry-after-ms': '46500',
      'x-ratelimit-reset-tokens': '47',
      'x-ratelimit-remaining-tokens': '40',
    });
    // A smaller request still fits.
    expect((await limiter.admit('d', limiter.dimensions(limits, 40))).admitted).toBe(true);
    // A client that waits exactly retry-after-ms is admitted, into a fresh window.
    clock = t0 + 1000 + 46500;
    const after = await limiter.admit('d', limiter.dimensions(limits, 50));
    expect(after.admitted).toBe(true);
    expect(after.headers['x-ratelimit-remaining-tokens']).toBe('50');
    limiter.stop();
  });

  it('counts requests per 10 seconds (RPM/6) and per second (RPM/60)', async () => {
    clock = t0;
    const limiter = make();
    const limits = chat(1000000, 12); // 2 per 10 s, 1 per second
    expect((await limiter.admit('d', limiter.dimensions(limits, 1))).admitted).toBe(true);
    clock = t0 + 100;
    const perSecond = await limiter.admit('d', limiter.dimensions(limits, 1));
    expect(perSecond).toMatchObject({ admitted: false, reason: 'requests', retryAfterMs: 400 });
    expect(perSecond.headers).toMatchObject({ 'retry-after': '1', 'x-ratelimit-reset-requests': '1', 'x-ratelimit-limit-requests': '2' });
    clock = t0 + 500;
    expect((await limiter.admit('d', limiter.dimensions(limits, 1))).admitted).toBe(true);
    clock = t0 + 1500;
    const perTen = await limiter.admit('d', limiter.dimensions(limits, 1));
    expect(perTen).toMatchObject({ admitted: false, reason: 'requests', retryAfterMs: 6000 });
    expect(perTen.headers['retry-after']).toBe('6');
    clock = t0 + 7500;
    expect((await limiter.admit('d', limiter.dimensions(limits, 1))).admitted).toBe(true);
    limiter.stop();
  });

  it('derives RPM as 6 per 1000 TPM when not configured', async () => {
    clock = t0;
    const limiter = make();
    const dims = limiter.dimensions(chat(100000), 10);
    expect(dims.map((d) => [d.kind, d.windowMs, d.limit])).toEqual([
      ['tokens', 60000, 100000],
      ['requests', 10000, 100],
      ['requests', 1000, 10],
    ]);
    limiter.stop();
  });

  it('answers a request larger than the whole budget with the long retry, never admitting it', async () => {
    clock = t0;
    const limiter = make();
    const oversize = await limiter.admit('d', limiter.dimensions(chat(100, 600), 101));
    expect(oversize).toMatchObject({ admitted: false, reason: 'tokens', oversize: true, retryAfterMs: OVERSIZE_RETRY_MS });
    expect(oversize.headers['retry-after']).toBe('86400');
    // It consumed nothing.
    expect((await limiter.admit('d', limiter.dimensions(chat(100, 600), 100))).admitted).toBe(true);
    limiter.stop();
  });

  it('limits whisper-like models by requests per minute only', async () => {
    clock = t0;
    const limiter = make();
    const whisper: DeploymentLimits = { requestsPerMinute: 3, tokenLimited: false };
    for (let i = 0; i < 3; i++) expect((await limiter.admit('w', limiter.dimensions(whisper, 0))).admitted).toBe(true);
    const rejected = await limiter.admit('w', limiter.dimensions(whisper, 0));
    expect(rejected).toMatchObject({ admitted: false, reason: 'requests', retryAfterMs: 47500 });
    expect(rejected.headers).toMatchObject({ 'x-ratelimit-limit-requests': '3', 'x-ratelimit-remaining-requests': '0' });
    limiter.stop();
  });

  it('keeps deployments independent', async () => {
    clock = t0;
    const limiter = make();
    await limiter.admit('d1', limiter.dimensions(chat(100, 600), 100));
    expect((await limiter.admit('d1', limiter.dimensions(chat(100, 600), 1))).admitted).toBe(false);
    const other = await limiter.admit('d2', limiter.dimensions(chat(100, 600), 1));
    expect(other.headers['x-ratelimit-remaining-tokens']).toBe('99');
  });

  it('fails open or closed when the store is down, as configured', async () => {
    clock = t0;
    const broken: CounterStore = { name: 'broken', operations: 0, take: () => Promise.reject(new Error('down')), give: () => Promise.resolve() };
    const errors: unknown[] = [];
    const open = createLimiter({ store: broken, now: () => clock, onStoreError: (e) => errors.push(e) });
    expect((await open.admit('d', open.dimensions(chat(100, 600), 5))).admitted).toBe(true);
    const closed = createLimiter({ store: broken, now: () => clock, failurePolicy: 'closed' });
    expect((await closed.admit('d', closed.dimensions(chat(100, 600), 5))).admitted).toBe(false);
    const hanging: CounterStore = { name: 'hang', operations: 0, take: () => new Promise(() => undefined), give: () => Promise.resolve() };
    const timed = createLimiter({ store: hanging, now: () => clock, storeTimeoutMs: 50 });
    const started = Date.now();
    expect((await timed.admit('d', timed.dimensions(chat(100, 600), 5))).admitted).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(errors.length).toBeGreaterThan(0);
    for (const l of [open, closed, timed]) l.stop();
  });

  it('an outage is detected once: requests are then judged without the store, which one probe tries again', async () => {
    let up = false;
    let takes = 0;
    const inner = memoryCounterStore();
    // Down: never answers (a stopped or SIGSTOPped server); up: a working store.
    const flaky: CounterStore = {
      name: 'flaky',
      operations: 0,
      take: (key, want, limit) => {
        takes++;
        return up ? inner.take(key, want, limit) : new Promise(() => undefined);
      },
      give: (key, amount) => (up ? inner.give(key, amount) : new Promise(() => undefined)),
    };
    for (const policy of ['open', 'closed'] as const) {
      up = false;
      takes = 0;
      const limiter = createLimiter({ store: flaky, failurePolicy: policy, storeTimeoutMs: 100 });
      const limits = chat(100_000, 60_000);
      // The first request finds the outage (after the store timeout).
      await limiter.admit(`outage-${policy}`, limiter.dimensions(limits, 5));
      const seen = takes;
      const during = await Promise.all(Array.from({ length: 30 }, () => limiter.admit(`outage-${policy}`, limiter.dimensions(limits, 5))));
      // None of them waited on the store again.
      expect(takes).toBe(seen);
      if (policy === 'open') expect(during.every((a) => a.admitted)).toBe(true);
      else {
        expect(during.every((a) => !a.admitted)).toBe(true);
        expect(during[0].headers['retry-after']).toBe('1');
      }
      // The store is back: after the quiet period one probe finds it, and counting is shared again.
      up = true;
      await new Promise((r) => setTimeout(r, 1100));
      const back = await limiter.admit(`outage-${policy}`, limiter.dimensions(limits, 5));
      expect(back.admitted).toBe(true);
      expect(takes).toBeGreaterThan(seen);
      expect(Number(back.headers['x-ratelimit-remaining-tokens'])).toBeLessThan(100_000);
      limiter.stop();
    }
  });

  it("keeps a newer window's lease when a request judged in the previous window finishes late", async () => {
    const minuteEnd = Date.UTC(2026, 0, 1, 0, 1, 0, 0);
    clock = minuteEnd - 1;
    const limiter = make();
    const limits = chat(1000, 6000);
    const late = limiter.admit('d', limiter.dimensions(limits, 10)); // judged in the old minute, claim pending
    clock = minuteEnd + 1;
    const b = await limiter.admit('d', limiter.dimensions(limits, 100));
    // 900, or 890 if the late request (re-judged into this minute) finished first.
    expect(['900', '890']).toContain(b.headers['x-ratelimit-remaining-tokens']);
    // The late request is judged again, in the minute it is actually admitted in.
    const lateAdmission = await late;
    expect(lateAdmission.admitted).toBe(true);
    expect(lateAdmission.now).toBeGreaterThanOrEqual(minuteEnd);
    const c = await limiter.admit('d', limiter.dimensions(limits, 50));
    expect(c.headers['x-ratelimit-remaining-tokens']).toBe('840');
    limiter.stop();
  });

  it('hands idle leases back so other instances can use them', async () => {
    clock = t0;
    const store = memoryCounterStore();
    const a = createLimiter({ store, now: () => clock });
    const b = createLimiter({ store, now: () => clock });
    const limits = chat(1000, 6000);
    // a leases a chunk bigger than it spends, then goes quiet.
    expect((await a.admit('d', a.dimensions(limits, 10))).admitted).toBe(true);
    clock = t0 + 2000;
    await a.release();
    let admittedTokens = 10;
    while ((await b.admit('d', b.dimensions(limits, 10))).admitted) admittedTokens += 10;
    expect(admittedTokens).toBe(1000);
    a.stop();
    b.stop();
  });
});

for (const [name, make] of Object.entries(stores)) {
  describe(`limiter usage across two instances: ${name}`, () => {
    it("reports the whole app's use of each window: both instances' admissions, not their unspent leases", async () => {
      // Not within 2 s of a 10 s window's end (a new window would start from 0 mid-test).
      if (Date.now() % 10000 > 8000) await new Promise((r) => setTimeout(r, 10000 - (Date.now() % 10000) + 50));
      const [a, b] = make();
      const limits: DeploymentLimits = { tokensPerMinute: 60000, requestsPerMinute: 600, tokenLimited: true };
      const one = createLimiter({ store: a });
      const two = createLimiter({ store: b });
      try {
        for (let i = 0; i < 3; i++) expect((await one.admit('d', one.dimensions(limits, 100))).admitted).toBe(true);
        for (let i = 0; i < 2; i++) expect((await two.admit('d', two.dimensions(limits, 50))).admitted).toBe(true);
        const usage = await one.usage('d', one.dimensions(limits, 0));
        // Instance two's lease is larger than what it spent: its unspent part is counted until handed back.
        await two.close();
        const after = await one.usage('d', one.dimensions(limits, 0));
        const tokens = after.find((w) => w.kind === 'tokens')!;
        const tenSeconds = after.find((w) => w.kind === 'requests' && w.windowMs === 10000)!;
        expect(tokens).toMatchObject({ limit: 60000, used: 400, shared: true });
        expect(tenSeconds).toMatchObject({ limit: 100, used: 5, shared: true });
        expect(usage.find((w) => w.kind === 'tokens')!.used).toBeGreaterThanOrEqual(400);
      } finally {
        await one.close();
        await two.close();
      }
    });
  });
}
