// The one way every store here reaches Azure Storage (Tables and Blobs): the account's
// connection string, or its service URIs with an Entra ID credential (shared keys disabled).
// Stores never build SDK clients themselves.

import type { TokenCredential } from '@azure/identity';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { StorageTarget as ConfiguredStorage, StorageIdentity } from '../config/storage';

/** The configured storage, or a connection string as it is. */
export type StorageTarget = ConfiguredStorage | string;
const resolved = (target: StorageTarget): ConfiguredStorage => (typeof target === 'string' ? { connectionString: target } : target);

/** HTTP status of a failed storage call (404 missing, 409 exists, 412 changed since read). */
export const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

/** The table or container itself is gone (an emulator or account reset): it must be made again. */
export const isGone = (err: unknown): boolean => {
  const code = (err as { code?: string; details?: { errorCode?: string } }).code ?? (err as { details?: { errorCode?: string } }).details?.errorCode;
  return statusOf(err) === 404 && (code === 'TableNotFound' || code === 'ContainerNotFound');
};

// One credential per identity: its token is fetched once and reused until it nears expiry.
const credentials = new WeakMap<StorageIdentity, TokenCredential>();
function credentialOf(identity: StorageIdentity): TokenCredential {
  let credential = credentials.get(identity);
  if (!credential) {
    // Loaded only when storage is reached by identity (it is a large module).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const azureIdentity = require('@azure/identity') as typeof import('@azure/identity');
    credential =
      identity.credential?.toLowerCase() === 'managedidentity'
        ? new azureIdentity.ManagedIdentityCredential(identity.clientId ? { clientId: identity.clientId } : {})
        : new azureIdentity.DefaultAzureCredential(identity.clientId ? { managedIdentityClientId: identity.clientId } : {});
    credentials.set(identity, credential);
  }
  return credential;
}

export function tableClient(storage: StorageTarget, table: string): TableClient {
  const target = resolved(storage);
  // Azurite speaks plain HTTP on loopback; the SDK refuses that unless told.
  if ('connectionString' in target) return TableClient.fromConnectionString(target.connectionString, table, { allowInsecureConnection: true });
  const uri = target.identity.tableServiceUri;
  if (!uri) throw new Error('no Table service URI (AzureWebJobsStorage__tableServiceUri or __accountName)');
  return new TableClient(uri, table, credentialOf(target.identity));
}

/**
 * A Blob container client with few, short retries: a request waiting on the store should fail in
 * seconds, not minutes (the SDK's default backs off for up to two minutes).
 */
export function containerClient(storage: StorageTarget, container: string): ContainerClient {
  const target = resolved(storage);
  const retryOptions = { maxTries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 1000, tryTimeoutInMs: 15_000 };
  if ('connectionString' in target) return BlobServiceClient.fromConnectionString(target.connectionString, { retryOptions }).getContainerClient(container);
  const uri = target.identity.blobServiceUri;
  if (!uri) throw new Error('no Blob service URI (AzureWebJobsStorage__blobServiceUri or __accountName)');
  return new BlobServiceClient(uri, credentialOf(target.identity), { retryOptions }).getContainerClient(container);
}
