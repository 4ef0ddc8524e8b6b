// Long texts (over 64 KiB) are counted on a worker thread before a request's prompt is counted,
// so a megabyte of "AAAA…" costs that request its time, not every other client's: counting is
// the one piece of request work that grows with the input. The counts are handed to
// countTokens, which takes them instead of counting on the loop. Without the compiled worker
// (running from TypeScript sources), texts are counted on the loop as before.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Encoding } from '../catalogue';

export const OFF_LOOP_LENGTH = 65536;
const WORKER_FILE = join(__dirname, 'count-worker.js');

/** Counts made off the loop for texts of the requests being parsed, by encoding: text → tokens. */
export const precounted: Record<Encoding, Map<string, number>> = { cl100k_base: new Map(), o200k_base: new Map() };

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, (tokens: number | undefined) => void>();

function countWorker(): Worker | undefined {
  if (worker) return worker;
  if (!__filename.endsWith('.js') || !existsSync(WORKER_FILE)) return undefined;
  worker = new Worker(WORKER_FILE);
  worker.unref();
  worker.on('message', ({ id, tokens }: { id: number; tokens: number }) => {
    waiting.get(id)?.(tokens);
    waiting.delete(id);
  });
  // A worker that fails leaves its texts to be counted on the loop.
  const fail = () => {
    for (const resolve of waiting.values()) resolve(undefined);
    waiting.clear();
    worker = undefined;
  };
  worker.on('error', fail);
  worker.on('exit', fail);
  return worker;
}

/** The strings over OFF_LOOP_LENGTH anywhere in a request body's value (a bounded walk). */
export function longStrings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') {
    if (value.length > OFF_LOOP_LENGTH) out.push(value);
  } else if (depth < 8 && value !== null && typeof value === 'object') {
    for (const item of Array.isArray(value) ? value : Object.values(value)) longStrings(item, out, depth + 1);
  }
  return out;
}

/**
 * Counts `texts` off the loop (up to `limit` exactly, as countTokens does), then runs `count`
 * with those counts at hand, and forgets them.
 */
export async function withLongCounts<T>(texts: string[], encoding: Encoding, limit: number, count: () => T): Promise<T> {
  const target = texts.length ? countWorker() : undefined;
  if (!target) return count();
  const known = precounted[encoding];
  const mine = [...new Set(texts)].filter((t) => !known.has(t));
  const counts = await Promise.all(
    mine.map(
      (text) =>
        new Promise<number | undefined>((resolve) => {
          const id = nextId++;
          waiting.set(id, resolve);
          target.postMessage({ id, text, encoding, limit });
        }),
    ),
  );
  mine.forEach((text, i) => {
    if (counts[i] !== undefined) known.set(text, counts[i]!);
  });
  try {
    return count();
  } finally {
    for (const text of mine) known.delete(text);
  }
}
