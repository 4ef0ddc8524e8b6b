// Randomness: a small seeded generator (so `seed` and embeddings are reproducible across
// instances), and ids drawn from a pooled crypto source (cheap on the hot path).

import { createHash, randomFillSync, randomUUID } from 'node:crypto';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  int(maxExclusive: number): number;
  /** Standard normal sample. */
  normal(): number;
}

/** sfc32 seeded from a 128-bit digest of `seed`. */
export function seededRng(seed: string): Rng {
  const d = createHash('md5').update(seed).digest();
  let a = d.readUInt32LE(0),
    b = d.readUInt32LE(4),
    c = d.readUInt32LE(8),
    n = d.readUInt32LE(12);
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    n >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    n = (n + 1) | 0;
    t = (t + n) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return withHelpers(next);
}

export const mathRng: Rng = withHelpers(Math.random);

function withHelpers(next: () => number): Rng {
  return {
    next,
    int: (max) => Math.floor(next() * max),
    normal: () => {
      // Box-Muller; 1 - u keeps log away from 0.
      const u = 1 - next(),
        v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** `length` random alphanumeric characters (62 symbols; the 8-symbol bias of `% 62` is irrelevant here). */
export function randomId(length: number): string {
  if (poolOffset + length > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[pool[poolOffset++] % 62];
  return out;
}

export const uuid = (): string => randomUUID();

export function md5Hex(text: string): string {
  return createHash('md5').update(text).digest('hex');
}
