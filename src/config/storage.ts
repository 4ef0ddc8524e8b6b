// Where the shared state lives: a connection string (AZURE_STORAGE_CONNECTION_STRING, or the
// host's AzureWebJobsStorage), or the identity-based settings the Functions host itself
// understands (AzureWebJobsStorage__blobServiceUri / __tableServiceUri / __accountName, with
// __credential and __clientId), for accounts where shared keys are disabled by policy.

type Env = Record<string, string | undefined>;

export interface StorageIdentity {
  blobServiceUri?: string;
  tableServiceUri?: string;
  /** `managedidentity` (the host's value): that credential only; otherwise DefaultAzureCredential. */
  credential?: string;
  /** A user-assigned identity's client id. */
  clientId?: string;
}

export type StorageTarget = { connectionString: string } | { identity: StorageIdentity };

export function loadStorage(env: Env): StorageTarget | undefined {
  const connectionString = env.AZURE_STORAGE_CONNECTION_STRING?.trim() || env.AzureWebJobsStorage?.trim();
  if (connectionString) return { connectionString };
  const account = env.AzureWebJobsStorage__accountName?.trim();
  const credential = env.AzureWebJobsStorage__credential?.trim();
  const clientId = env.AzureWebJobsStorage__clientId?.trim();
  const blobServiceUri = env.AzureWebJobsStorage__blobServiceUri?.trim() || (account ? `https://${account}.blob.core.windows.net` : undefined);
  const tableServiceUri = env.AzureWebJobsStorage__tableServiceUri?.trim() || (account ? `https://${account}.table.core.windows.net` : undefined);
  if (!blobServiceUri && !tableServiceUri) return undefined;
  return {
    identity: { blobServiceUri, tableServiceUri, credential, clientId },
  };
}
