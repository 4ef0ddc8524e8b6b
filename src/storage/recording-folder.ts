// Recordings in a local folder (RECORDING_DIR), one YAML file per recording file; the default
// store without a storage connection.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { RecordingStore } from '../modes/recordings/store';

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A local folder (RECORDING_DIR). Writes go to a temporary file renamed into place, so readers
 * never see half a file; a lock directory per file makes check-and-write atomic across processes
 * sharing the folder. A version is the file's inode, mtime and size: each rename makes a new inode.
 */
export function folderRecordingStore(dir: string): RecordingStore {
  const versionOf = (stat: { ino: number | bigint; mtimeMs: number; size: number }) => `${stat.ino}:${stat.mtimeMs}:${stat.size}`;

  async function withLock<T>(file: string, work: () => Promise<T>): Promise<T> {
    const lock = join(dir, `.${file}.lock`);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await fs.mkdir(lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const held = await fs.stat(lock).catch(() => undefined);
        // A writer that died holding the lock must not block recording for ever.
        if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) await fs.rm(lock, { recursive: true, force: true });
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
        await sleep(2 + Math.random() * 10);
      }
    }
    try {
      return await work();
    } finally {
      await fs.rm(lock, { recursive: true, force: true });
    }
  }

  return {
    name: `folder ${dir}`,
    async list() {
      const out = new Map<string, string>();
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
        throw err;
      }
      await Promise.all(
        names
          .filter((n) => n.endsWith('.yaml') && !n.startsWith('.'))
          .map(async (n) => {
            const stat = await fs.stat(join(dir, n)).catch(() => undefined);
            if (stat?.isFile()) out.set(n, versionOf(stat));
          }),
      );
      return out;
    },
    async read(file) {
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(join(dir, file), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      try {
        // One descriptor for both: a rename in between cannot pair new text with an old version.
        const stat = await handle.stat();
        return { text: await handle.readFile('utf8'), version: versionOf(stat) };
      } finally {
        await handle.close();
      }
    },
    async write(file, text, ifVersion) {
      await fs.mkdir(dir, { recursive: true });
      return withLock(file, async () => {
        const path = join(dir, file);
        const current = await fs.stat(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined;
          throw err;
        });
        if ((current ? versionOf(current) : undefined) !== ifVersion) return undefined;
        const temp = join(dir, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
        try {
          await fs.writeFile(temp, text, 'utf8');
          await fs.rename(temp, path);
        } catch (err) {
          await fs.rm(temp, { force: true });
          throw err;
        }
        return versionOf(await fs.stat(path));
      });
    },
  };
}
