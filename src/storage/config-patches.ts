// The shared list of accepted configuration patches (PATCH /++/config): one Table entity
// (CONFIG_TABLE), changed only by ETag-conditional writes, so instances converge.

import { ConfigPatchError, type PatchStore } from '../admin/live-config';
import { statusOf, tableClient, type StorageTarget } from './connect';

const MAX_DOCUMENT_CHARS = 30000; // a Table string property holds 64 KiB (32K UTF-16 characters)

export function tablePatchStore(target: StorageTarget, table: string): PatchStore {
  const client = tableClient(target, table);
  let created: Promise<unknown> | undefined;
  const ensureTable = () =>
    (created ??= client.createTable().catch((err) => {
      created = undefined;
      throw err;
    }));
  return {
    async read() {
      try {
        const entity = await client.getEntity<{ Patches: string }>('config', 'patches');
        return { patches: JSON.parse(entity.Patches) as unknown[], version: entity.etag };
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async write(patches, ifVersion) {
      const text = JSON.stringify(patches);
      if (text.length > MAX_DOCUMENT_CHARS) {
        throw new ConfigPatchError('The stored configuration is full: restart the instances with the settings in their environment and deployment file.');
      }
      await ensureTable();
      const entity = { partitionKey: 'config', rowKey: 'patches', Patches: text };
      try {
        const result = ifVersion === undefined ? await client.createEntity(entity) : await client.updateEntity(entity, 'Replace', { etag: ifVersion });
        return result.etag;
      } catch (err) {
        const status = statusOf(err);
        if (status === 409 || status === 412) return undefined;
        throw err;
      }
    },
  };
}
