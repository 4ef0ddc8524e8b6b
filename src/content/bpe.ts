// Token counts in O(n log n) for any input. js-tiktoken merges byte pairs by rescanning every
// pair after each merge, so a long run (base64, "AAAA…", minified code) takes seconds to minutes.
// This is the same merge (the lowest-ranked adjacent pair first, the leftmost on ties) kept in a
// heap, over js-tiktoken's bundled ranks and pre-tokenising pattern: the counts are the same.

/** js-tiktoken's bundled ranks file: the pattern, and lines of `<ignored> <first rank> <base64 token>...`. */
export interface RanksFile {
  pat_str: string;
  bpe_ranks: string;
}

/** The pattern and the ranks keyed by the token's bytes as a one-char-per-byte (latin1) string. */
export interface BpeRanks {
  pattern: RegExp;
  rankMap: Map<string, number>;
}

/** Built straight from the ranks file with native base64 decoding (js-tiktoken's own encoder takes far longer to build). */
export function bpeRanks(file: RanksFile): BpeRanks {
  const rankMap = new Map<string, number>();
  for (const line of file.bpe_ranks.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const offset = Number.parseInt(fields[1], 10);
    for (let i = 2; i < fields.length; i++) rankMap.set(Buffer.from(fields[i], 'base64').toString('latin1'), offset + i - 2);
  }
  return { pattern: new RegExp(file.pat_str, 'gu'), rankMap };
}

const utf8 = new TextEncoder();

const keyOf = (bytes: Uint8Array, from: number, to: number) => {
  let key = '';
  for (let i = from; i < to; i++) key += String.fromCharCode(bytes[i]);
  return key;
};

// A run longer than this, when counting to a limit, is first sampled.
const SAMPLE_BYTES = 65536;

/**
 * Tokens in `text`, every character counted as text (special-token strings included, as the API
 * counts user content). Exact up to `limit`; past it, counting stops and the rest is estimated
 * at the rate so far (a 20 MB prompt far past any context window costs no more than the window).
 */
export function countBpeTokens(text: string, ranks: BpeRanks, limit = Infinity): number {
  const { rankMap } = ranks;
  let count = 0;
  for (const match of text.matchAll(new RegExp(ranks.pattern))) {
    const piece = utf8.encode(match[0]);
    if (piece.length > SAMPLE_BYTES && limit !== Infinity) {
      // One run far past the limit (a base64 blob, "AAAA…"): its sample's rate says so without
      // merging megabytes; a run that may fit is counted exactly.
      const estimate = Math.ceil((partStarts(piece.subarray(0, SAMPLE_BYTES), rankMap).length * piece.length) / SAMPLE_BYTES);
      if (count + estimate > 2 * limit) return Math.ceil(((count + estimate) * text.length) / (match.index + match[0].length));
    }
    count += piece.length === 1 || rankMap.has(keyOf(piece, 0, piece.length)) ? 1 : partStarts(piece, rankMap).length;
    if (count > limit) {
      const read = match.index + match[0].length;
      return read >= text.length ? count : Math.ceil((count * text.length) / read);
    }
  }
  return count;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8Loose = new TextDecoder();

/**
 * `text` as its tokens' strings, in order; tokens that split a multi-byte character are joined
 * until it is whole (so joined, the pieces are the text).
 */
export function splitBpe(text: string, ranks: BpeRanks): string[] {
  const { rankMap } = ranks;
  const out: string[] = [];
  let pending: Uint8Array[] = [];
  const emit = (token: Uint8Array) => {
    pending.push(token);
    const bytes = pending.length === 1 ? token : Buffer.concat(pending);
    try {
      out.push(utf8Strict.decode(bytes));
      pending = [];
    } catch {
      // a character continues in the next token
    }
  };
  for (const match of text.matchAll(new RegExp(ranks.pattern))) {
    const piece = utf8.encode(match[0]);
    if (piece.length === 1 || rankMap.has(keyOf(piece, 0, piece.length))) {
      emit(piece);
      continue;
    }
    const starts = partStarts(piece, rankMap);
    for (let i = 0; i < starts.length; i++) emit(piece.subarray(starts[i], i + 1 < starts.length ? starts[i + 1] : piece.length));
  }
  if (pending.length) out.push(utf8Loose.decode(Buffer.concat(pending)));
  return out;
}

// A merged pair's rank by its two parts' ranks (numeric keys: no string built per lookup once a
// pair has been seen; runs like "AAAA…" or base64 repeat few pairs). Bounded per ranks table.
const pairMemos = new WeakMap<Map<string, number>, Map<number, number>>();
const PAIR_KEY = 2 ** 21; // above every rank in cl100k and o200k
const MEMO_LIMIT = 1_000_000;

// Pieces up to this many bytes are merged by rescanning (as tiktoken does): for short pieces,
// the most common, that beats setting up the heap.
const SHORT_PIECE = 24;

/** The same merge for a short piece: rescan every pair after each merge. */
function shortPartStarts(bytes: Uint8Array, rankMap: Map<string, number>): number[] {
  const starts: number[] = [];
  for (let i = 0; i < bytes.length; i++) starts.push(i);
  starts.push(bytes.length);
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let k = 0; k + 2 < starts.length; k++) {
      const r = rankMap.get(keyOf(bytes, starts[k], starts[k + 2]));
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = k;
      }
    }
    if (best < 0) break;
    starts.splice(best + 1, 1);
  }
  starts.pop();
  return starts;
}

/** Where each part the byte-pair merge leaves of `bytes` starts (each part one token). */
function partStarts(bytes: Uint8Array, rankMap: Map<string, number>): number[] {
  const n = bytes.length;
  if (n <= SHORT_PIECE) return shortPartStarts(bytes, rankMap);
  let memo = pairMemos.get(rankMap);
  if (!memo || memo.size > MEMO_LIMIT) pairMemos.set(rankMap, (memo = new Map()));
  // Parts as a linked list of start offsets; a part ends where the next one starts.
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const version = new Int32Array(n);
  // Each part's token rank: every single byte is a token, and merges only make tokens.
  const rank = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
    rank[i] = rankMap.get(String.fromCharCode(bytes[i])) ?? -1;
  }
  const end = (i: number) => (next[i] === -1 ? n : next[i]);
  const heap = new PairHeap();
  /** The rank of part i merged with the part after it (-1: not a token). */
  const pairRank = (i: number) => {
    const j = next[i];
    if (j === -1) return -1;
    const key = rank[i] * PAIR_KEY + rank[j];
    let merged = rank[i] < 0 || rank[j] < 0 ? undefined : memo.get(key);
    if (merged === undefined) {
      merged = rankMap.get(keyOf(bytes, i, end(j))) ?? -1;
      if (rank[i] >= 0 && rank[j] >= 0) memo.set(key, merged);
    }
    return merged;
  };
  const offer = (i: number) => {
    const r = pairRank(i);
    if (r >= 0) heap.push(r, i, version[i]);
  };
  for (let i = 0; i < n - 1; i++) offer(i);
  while (heap.size) {
    const merged = heap.pop();
    const i = heap.topStart;
    if (!alive[i] || heap.topVersion !== version[i]) continue; // a pair changed since it was offered
    const j = next[i];
    next[i] = next[j];
    if (next[j] !== -1) prev[next[j]] = i;
    alive[j] = 0;
    rank[i] = merged;
    version[i]++;
    offer(i);
    if (prev[i] !== -1) {
      version[prev[i]]++;
      offer(prev[i]);
    }
  }
  const starts: number[] = [];
  for (let i = 0; i !== -1; i = next[i]) starts.push(i);
  return starts;
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
  /** Pops the top entry: returns its rank; its start and version are left in topStart, topVersion. */
  topStart = 0;
  topVersion = 0;
  pop(): number {
    const top = this.ranks[0];
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
    return top;
  }
}
