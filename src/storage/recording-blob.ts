// Recordings in a Blob container (RECORDING_CONTAINER), one blob per recording file at the
// container's root, so teams can browse, edit and upload them with Storage Explorer. Writes are
// ETag-conditional; a blob's ETag is its version.

import type { ContainerClient } from '@azure/storage-blob';
import type { RecordingStore } from '../modes/recordings/store';
import { containerClient, isGone, statusOf, type StorageTarget } from './connect';

export function blobRecordingStore(target: StorageTarget, containerName: string): RecordingStore {
  const container: ContainerClient = containerClient(target, containerName);
  let created: Promise<unknown> | undefined;
  const ensureContainer = () => {
    created ??= container.createIfNotExists().catch((err) => {
      created = undefined;
      throw err;
    });
    return created;
  };

  return {
    name: `blob container ${containerName}`,
    async list() {
      const out = new Map<string, string>();
      try {
        for await (const blob of container.listBlobsFlat()) {
          if (blob.name.endsWith('.yaml') && !blob.name.includes('/')) out.set(blob.name, bare(blob.properties.etag));
        }
      } catch (err) {
        if (statusOf(err) === 404) return out; // no container yet: no recordings
        throw err;
      }
      return out;
    },
    async read(file) {
      try {
        const response = await container.getBlobClient(file).download();
        const chunks: Buffer[] = [];
        for await (const chunk of response.readableStreamBody as AsyncIterable<Buffer>) chunks.push(chunk);
        return { text: Buffer.concat(chunks).toString('utf8'), version: bare(response.etag) };
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async write(file, text, ifVersion) {
      await ensureContainer();
      const data = Buffer.from(text, 'utf8');
      try {
        const result = await container.getBlockBlobClient(file).upload(data, data.length, {
          conditions: ifVersion === undefined ? { ifNoneMatch: '*' } : { ifMatch: `"${ifVersion}"` },
          blobHTTPHeaders: { blobContentType: 'application/yaml; charset=utf-8' },
        });
        return bare(result.etag);
      } catch (err) {
        const status = statusOf(err);
        if (status === 412 || status === 409) return undefined;
        // The container was lost: make it again; the writer's merge-and-retry writes again.
        if (isGone(err)) created = undefined;
        throw err;
      }
    },
  };
}

// Listings give ETags bare, downloads and uploads quoted: one form for comparing versions.
const bare = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');
