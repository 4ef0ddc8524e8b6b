// Token counts in O(n log n) for any input. js-tiktoken merges byte pairs by rescanning every
// pair after each merge, so a long run (base64, "AAAA…", minified code) takes seconds to minutes.
// This is the same merge (the lowest-ranked adjacent pair first, the leftmost on ties) kept in a
// heap, over js-tiktoken's own ranks and pre-tokenising pattern: the counts are the same.

/** What a js-tiktoken encoder holds (its public, if internal, fields). */
export interface BpeRanks {
  /** The pre-tokenising pattern (`pat_str`). */
  patStr: string;
  /** Token bytes as `"b1,b2,..."` → rank. */
  rankMap: Map<string, number>;
}

const utf8 = new TextEncoder();

/** Ranks keyed by the token's bytes as a one-char-per-byte string: far cheaper keys than "b1,b2". */
const byteKeyed = new WeakMap<Map<string, number>, Map<string, number>>();
function byteRanks(ranks: BpeRanks): Map<string, number> {
  let map = byteKeyed.get(ranks.rankMap);
  if (!map) {
    map = new Map();
    for (const [key, rank] of ranks.rankMap) map.set(String.fromCharCode(...key.split(',').map(Number)), rank);
    byteKeyed.set(ranks.rankMap, map);
  }
  return map;
}

const keyOf = (bytes: Uint8Array, from: number, to: number) => {
  let key = '';
  for (let i = from; i < to; i++) key += String.fromCharCode(bytes[i]);
  return key;
};

/** Tokens in `text`, every character counted as text (special-token strings included, as the API counts user content). */
export function countBpeTokens(text: string, ranks: BpeRanks): number {
  const rankMap = byteRanks(ranks);
  let count = 0;
  for (const match of text.matchAll(new RegExp(ranks.patStr, 'gu'))) {
    const piece = utf8.encode(match[0]);
    count += piece.length === 1 || rankMap.has(keyOf(piece, 0, piece.length)) ? 1 : mergedParts(piece, rankMap);
  }
  return count;
}

/** How many parts the byte-pair merge leaves of `bytes` (each part one token). */
function mergedParts(bytes: Uint8Array, rankMap: Map<string, number>): number {
  const n = bytes.length;
  // Parts as a linked list of start offsets; a part ends where the next one starts.
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const version = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const end = (i: number) => (next[i] === -1 ? n : next[i]);
  const heap = new PairHeap();
  /** The rank of part i merged with the part after it (undefined: not a token). */
  const pairRank = (i: number) => (next[i] === -1 ? undefined : rankMap.get(keyOf(bytes, i, end(next[i]))));
  const offer = (i: number) => {
    const rank = pairRank(i);
    if (rank !== undefined) heap.push(rank, i, version[i]);
  };
  for (let i = 0; i < n - 1; i++) offer(i);
  let parts = n;
  while (heap.size) {
    heap.pop();
    const i = heap.topStart;
    if (!alive[i] || heap.topVersion !== version[i]) continue; // a pair changed since it was offered
    const j = next[i];
    next[i] = next[j];
    if (next[j] !== -1) prev[next[j]] = i;
    alive[j] = 0;
    parts--;
    version[i]++;
    offer(i);
    if (prev[i] !== -1) {
      version[prev[i]]++;
      offer(prev[i]);
    }
  }
  return parts;
}

/** A binary min-heap of (rank, start, version), ordered by rank, then start (the leftmost pair). */
class PairHeap {
  private ranks: number[] = [];
  private starts: number[] = [];
  private versions: number[] = [];
  get size(): number {
    return this.ranks.length;
  }
  private less(a: number, b: number): boolean {
    return this.ranks[a] < this.ranks[b] || (this.ranks[a] === this.ranks[b] && this.starts[a] < this.starts[b]);
  }
  private swap(a: number, b: number): void {
    const { ranks, starts, versions } = this;
    const rank = ranks[a];
    ranks[a] = ranks[b];
    ranks[b] = rank;
    const start = starts[a];
    starts[a] = starts[b];
    starts[b] = start;
    const version = versions[a];
    versions[a] = versions[b];
    versions[b] = version;
  }
  push(rank: number, start: number, version: number): void {
    this.ranks.push(rank);
    this.starts.push(start);
    this.versions.push(version);
    for (let i = this.ranks.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  /** The top entry's start and version (read before pop), popped. */
  topStart = 0;
  topVersion = 0;
  pop(): void {
    this.topStart = this.starts[0];
    this.topVersion = this.versions[0];
    const last = this.ranks.length - 1;
    this.swap(0, last);
    this.ranks.pop();
    this.starts.pop();
    this.versions.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      if (l >= this.ranks.length) break;
      const c = l + 1 < this.ranks.length && this.less(l + 1, l) ? l + 1 : l;
      if (!this.less(c, i)) break;
      this.swap(c, i);
      i = c;
    }
  }
}
