// Stored responses in a Blob container (RESPONSES_CONTAINER), one JSON blob per response id, so
// any instance can retrieve, continue, poll or cancel a response another one created.

import type { ContainerClient } from '@azure/storage-blob';
import type { ResponseStore, StoredResponse } from '../operations/responses/store';
import { containerClient, isGone, statusOf, type StorageTarget } from './connect';

const ID = /^[A-Za-z0-9_-]{1,200}$/;

export function blobResponseStore(target: StorageTarget, containerName: string): ResponseStore {
  // Made on first use: a connection string without a Blob endpoint fails the Responses calls
  // that need the store (503), not the start of a simulator that never stores one.
  let client: ContainerClient | undefined;
  const container = () => (client ??= containerClient(target, containerName));
  let created: Promise<unknown> | undefined;
  const ensureContainer = () =>
    (created ??= container()
      .createIfNotExists()
      .catch((err) => {
        created = undefined;
        throw err;
      }));
  const blob = (id: string) => container().getBlockBlobClient(`${id}.json`);
  return {
    name: `blob container ${containerName}`,
    async put(id, stored) {
      const text = JSON.stringify(stored);
      const upload = async () => {
        await ensureContainer();
        await blob(id).upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: 'application/json' } });
      };
      try {
        await upload();
      } catch (err) {
        if (!isGone(err)) throw err;
        created = undefined; // the container was lost: make it again
        await upload();
      }
    },
    async get(id) {
      if (!ID.test(id)) return undefined;
      try {
        const bytes = await blob(id).downloadToBuffer();
        return JSON.parse(bytes.toString('utf8')) as StoredResponse;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async delete(id) {
      if (!ID.test(id)) return false;
      const result = await blob(id).deleteIfExists();
      return result.succeeded;
    },
  };
}
