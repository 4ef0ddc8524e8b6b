// The one way every store here reaches Azure Storage (Tables and Blobs): from the account's
// connection string. Stores never build SDK clients themselves.

import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

/** Where the shared state lives: AZURE_STORAGE_CONNECTION_STRING (Azurite's or an account's). */
export type StorageTarget = string;

/** HTTP status of a failed storage call (404 missing, 409 exists, 412 changed since read). */
export const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

export function tableClient(target: StorageTarget, table: string): TableClient {
  // Azurite speaks plain HTTP on loopback; the SDK refuses that unless told.
  return TableClient.fromConnectionString(target, table, { allowInsecureConnection: true });
}

/**
 * A Blob container client with few, short retries: a request waiting on the store should fail in
 * seconds, not minutes (the SDK's default backs off for up to two minutes).
 */
export function containerClient(target: StorageTarget, container: string): ContainerClient {
  return BlobServiceClient.fromConnectionString(target, {
    retryOptions: { maxTries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 1000, tryTimeoutInMs: 15_000 },
  }).getContainerClient(container);
}
