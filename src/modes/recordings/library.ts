// The recordings a running simulator knows: files loaded lazily from a RecordingStore, indexed by
// request hash, kept fresh (the store's listing is re-read at most every `refreshMs`, and on a miss
// at most every `missRefreshMs`), plus the interactions recorded here and not yet saved.
// Saving merges into the file as it is now in the store, conditionally on its version, so two
// instances recording into one file both keep everything.

import { log } from '../../log';
import { interactionHash, jsonRequestKey, parseRecordingFile, RecordingFormatError, serialiseRecordingFile, uriPath, type Interaction } from './format';
import type { RecordingStore } from './store';

export interface RequestKey {
  method: string;
  path: string;
  file: string;
  hash: string;
  /** Set when matching on canonical JSON is on and the body is JSON. */
  jsonKey?: string;
}

export interface LibraryOptions {
  store: RecordingStore;
  autosave: boolean;
  refreshMs: number;
  missRefreshMs?: number;
  /** Match JSON bodies by canonical form, without these top-level fields (undefined: exact bytes only). */
  jsonMatch?: { ignoreFields: readonly string[] };
}

export interface SaveSummary {
  files: number;
  interactions: number;
}

export interface RecordingLibrary {
  find(key: RequestKey): Promise<Interaction | undefined>;
  /**
   * Adds an interaction recorded here: served at once, saved now (autosave) or by `save()`.
   * With autosave, the promise settles when the save that holds it has been written (or failed; it is then retried).
   */
  add(key: RequestKey, interaction: Interaction): Promise<void>;
  save(): Promise<SaveSummary>;
  /** Each recording file (the store's and this instance's unsaved ones, at most `limit`) with its interaction count. */
  files(limit?: number): Promise<{ file: string; interactions: number; unsaved: number }[]>;
  readonly unsaved: number;
  /** Waits for saves under way and saves what is left. */
  close(): Promise<void>;
}

export class RecordingStoreUnavailable extends Error {}

interface FileEntry {
  version: string | undefined;
  exact: Map<string, Interaction>;
  json: Map<string, Interaction>;
}

const MAX_WRITE_ATTEMPTS = 40;
const AUTOSAVE_RETRY_MS = 5000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createRecordingLibrary(options: LibraryOptions): RecordingLibrary {
  const { store } = options;
  const missRefreshMs = options.missRefreshMs ?? 1000;
  const files = new Map<string, FileEntry>();
  const loading = new Map<string, Promise<FileEntry | undefined>>();
  let listed = new Map<string, string>();
  let listedAt = 0;
  let listing: Promise<void> | undefined;
  /** Recorded here, not yet in the store; per file, by hash. */
  const pending = new Map<string, Map<string, { key: RequestKey; interaction: Interaction }>>();
  /** Per-file chain: one save of a file at a time in this instance. */
  const saving = new Map<string, Promise<unknown>>();
  // A file's save that has not started yet: what is added meanwhile goes with it.
  const autosaveQueued = new Map<string, Promise<void>>();
  let closed = false;

  function refresh(): Promise<void> {
    listing ??= (async () => {
      try {
        listed = await store.list();
        for (const [file, entry] of files) {
          if (listed.get(file) !== entry.version) files.delete(file); // changed elsewhere: reload when asked
        }
      } finally {
        listedAt = Date.now();
        listing = undefined;
      }
    })();
    return listing;
  }

  function index(file: string, raws: readonly unknown[], version: string | undefined): FileEntry {
    const entry: FileEntry = { version, exact: new Map(), json: new Map() };
    let skipped = 0;
    for (const raw of raws) {
      try {
        put(entry, interactionHash(raw), raw as Interaction);
      } catch (err) {
        if (!(err instanceof RecordingFormatError)) throw err;
        skipped++;
        if (skipped === 1) log.warning(`recording ${file}: skipping an interaction: ${err.message}`);
      }
    }
    for (const { key, interaction } of pending.get(file)?.values() ?? []) put(entry, key.hash, interaction);
    return entry;
  }

  function put(entry: FileEntry, hash: string, interaction: Interaction): void {
    entry.exact.set(hash, interaction); // a later duplicate wins, as in the Python simulator
    if (!options.jsonMatch) return;
    const request = interaction.request;
    const jsonKey = jsonRequestKey(request.method.toUpperCase(), uriPath(request.uri), request.body, options.jsonMatch.ignoreFields);
    if (jsonKey) entry.json.set(jsonKey, interaction);
  }

  async function entryFor(file: string): Promise<FileEntry | undefined> {
    const known = files.get(file);
    if (known) return known;
    if (!listed.has(file)) return pending.has(file) ? index(file, [], undefined) : undefined;
    let load = loading.get(file);
    if (!load) {
      load = (async () => {
        try {
          const stored = await store.read(file);
          if (!stored) return pending.has(file) ? index(file, [], undefined) : undefined;
          let raws: unknown[];
          try {
            raws = parseRecordingFile(stored.text);
          } catch (err) {
            if (!(err instanceof RecordingFormatError)) throw err;
            log.error(`recording ${file} (${store.name}) cannot be read: ${err.message}`);
            raws = [];
          }
          const entry = index(file, raws, stored.version);
          files.set(file, entry);
          return entry;
        } finally {
          loading.delete(file);
        }
      })();
      loading.set(file, load);
    }
    return load;
  }

  async function lookup(key: RequestKey): Promise<Interaction | undefined> {
    const entry = await entryFor(key.file);
    if (!entry) return undefined;
    return entry.exact.get(key.hash) ?? (key.jsonKey ? entry.json.get(key.jsonKey) : undefined);
  }

  async function find(key: RequestKey): Promise<Interaction | undefined> {
    try {
      if (listedAt === 0) await refresh();
      else if (Date.now() - listedAt >= options.refreshMs) {
        refresh().catch((err) => log.error(`recordings (${store.name}): listing failed: ${(err as Error).message}`));
      }
      const hit = await lookup(key);
      if (hit || Date.now() - listedAt < missRefreshMs) return hit;
      await refresh();
      return await lookup(key);
    } catch (err) {
      if (err instanceof RecordingFormatError) throw err;
      throw new RecordingStoreUnavailable(`recordings (${store.name}) unavailable: ${(err as Error).message}`);
    }
  }

  function add(key: RequestKey, interaction: Interaction): Promise<void> {
    let forFile = pending.get(key.file);
    if (!forFile) pending.set(key.file, (forFile = new Map()));
    forFile.set(key.hash, { key, interaction });
    const entry = files.get(key.file);
    if (entry) put(entry, key.hash, interaction);
    return options.autosave && !closed ? autosave(key.file) : Promise.resolve();
  }

  function serially<T>(file: string, work: () => Promise<T>): Promise<T> {
    const run = (saving.get(file) ?? Promise.resolve()).catch(() => undefined).then(work);
    const tail = run.catch(() => undefined);
    saving.set(file, tail);
    tail.then(() => {
      if (saving.get(file) === tail) saving.delete(file);
    });
    return run;
  }

  function autosave(file: string): Promise<void> {
    const queued = autosaveQueued.get(file);
    if (queued !== undefined) return queued; // the queued save will take this one too
    const saved = serially(file, () => {
      autosaveQueued.delete(file);
      return saveFile(file);
    }).then(
      () => undefined,
      (err: unknown) => {
        log.error(`recording ${file} not saved to ${store.name} (will retry): ${(err as Error).message}`);
        if (!closed)
          setTimeout(() => {
            if (pending.has(file)) autosave(file).catch(() => undefined);
          }, AUTOSAVE_RETRY_MS).unref();
        throw err;
      },
    );
    // Logged above and retried: a caller that does not wait for the save leaves no unhandled rejection.
    saved.catch(() => undefined);
    autosaveQueued.set(file, saved);
    return saved;
  }

  /** Writes this file's pending interactions, merged into the stored file. Returns how many. */
  async function saveFile(file: string): Promise<number> {
    const batch = pending.get(file);
    if (!batch?.size) return 0;
    const taken = new Map(batch);
    for (let attempt = 1; ; attempt++) {
      const current = await store.read(file);
      // A file that cannot be parsed is never overwritten: that would lose what it holds.
      const raws = current ? parseRecordingFile(current.text) : [];
      const merged = merge(raws, taken);
      const version = await store.write(file, serialiseRecordingFile(merged), current?.version);
      if (version !== undefined) {
        const still = pending.get(file);
        for (const [hash, item] of taken) if (still?.get(hash) === item) still.delete(hash);
        if (still && still.size === 0) pending.delete(file);
        files.set(file, index(file, merged, version));
        listed.set(file, version);
        log.debug(`💾 ${taken.size} interaction(s) saved to ${file} (${store.name})`);
        return taken.size;
      }
      if (attempt >= MAX_WRITE_ATTEMPTS) throw new Error(`${file} kept changing under ${attempt} attempts to save it`);
      await sleep(5 + Math.random() * 20 * Math.min(attempt, 10));
    }
  }

  async function save(): Promise<SaveSummary> {
    const names = [...pending.keys()];
    const counts = await Promise.all(names.map((file) => serially(file, () => saveFile(file))));
    return { files: counts.filter((n) => n > 0).length, interactions: counts.reduce((a, b) => a + b, 0) };
  }

  async function filesSummary(limit = 200) {
    await refresh();
    const names = [...new Set([...listed.keys(), ...pending.keys()])].sort().slice(0, limit);
    return Promise.all(names.map(async (file) => ({ file, interactions: (await entryFor(file))?.exact.size ?? 0, unsaved: pending.get(file)?.size ?? 0 })));
  }

  return {
    find,
    add,
    save,
    files: filesSummary,
    get unsaved() {
      let n = 0;
      for (const forFile of pending.values()) n += forFile.size;
      return n;
    },
    async close() {
      closed = true;
      await Promise.all([...saving.values()]);
      if (pending.size) {
        try {
          await save();
        } catch (err) {
          log.error(`recordings not saved at shutdown: ${(err as Error).message}`);
        }
      }
    },
  };
}

/** The stored interactions with ours put in: same hash replaces (in place), new ones appended. */
function merge(raws: readonly unknown[], ours: ReadonlyMap<string, { interaction: Interaction }>): unknown[] {
  const out: unknown[] = [];
  const placed = new Set<string>();
  for (const raw of raws) {
    let hash: string | undefined;
    try {
      hash = interactionHash(raw);
    } catch {
      /* kept as it is: not ours to drop */
    }
    const mine = hash === undefined ? undefined : ours.get(hash);
    if (!mine) out.push(raw);
    else if (!placed.has(hash!)) {
      out.push(mine.interaction);
      placed.add(hash!);
    }
  }
  for (const [hash, { interaction }] of ours) if (!placed.has(hash)) out.push(interaction);
  return out;
}
