// Real Azurite (pinned version), started in-process on loopback with in-memory persistence.
// Deep imports: the package's main entry is its VS Code extension.

/* eslint-disable @typescript-eslint/no-require-imports */
const TableServer = require('azurite/dist/src/table/TableServer').default;
const TableConfiguration = require('azurite/dist/src/table/TableConfiguration').default;
const BlobServer = require('azurite/dist/src/blob/BlobServer').default;
const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration').default;

const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** HTTPS with Azurite's basic OAuth, or plain HTTP with shared keys; in memory, on a free port. */
interface Tls {
  cert: string;
  key: string;
}

function tableServer(tls?: Tls, port = 0) {
  // host, port, keepAlive, dbPath, debugLog, accessLog, accessLogStream, debugLogPath, loose,
  // skipApiVersionCheck, cert, key, pwd, oauth, disableProductStyleUrl, inMemory
  return new TableServer(
    new TableConfiguration(
      '127.0.0.1',
      port,
      undefined,
      undefined,
      false,
      false,
      undefined,
      undefined,
      false,
      true,
      tls?.cert ?? '',
      tls?.key ?? '',
      '',
      tls ? 'basic' : undefined,
      false,
      true,
    ),
  );
}

function blobServer(tls?: Tls) {
  // host, port, keepAlive, metadataDBPath, extentDBPath, persistencePaths, accessLog, accessLogStream,
  // debugLog, debugLogPath, loose, skipApiVersionCheck, cert, key, pwd, oauth, disableProductStyleUrl, inMemory
  return new BlobServer(
    new BlobConfiguration(
      '127.0.0.1',
      0,
      undefined,
      undefined,
      undefined,
      undefined,
      false,
      undefined,
      false,
      undefined,
      false,
      true,
      tls?.cert ?? '',
      tls?.key ?? '',
      '',
      tls ? 'basic' : undefined,
      false,
      true,
    ),
  );
}

export interface Azurite {
  connectionString: string;
  /** HTTP requests Azurite has served: the storage operations made against it. */
  readonly requests: number;
  close(): Promise<void>;
}

/** Azurite's Table service on `port` (0: any free port). */
export async function startAzuriteTables(listenPort = 0): Promise<Azurite> {
  const server = tableServer(undefined, listenPort);
  await server.start();
  const { port } = server.httpServer.address();
  let requests = 0;
  server.httpServer.on('request', () => {
    requests++;
  });
  return {
    get requests() {
      return requests;
    },
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${ACCOUNT_KEY};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
    close: () => server.close(),
  };
}

/** Blob and Table services together, as a storage account's connection string names them. */
export async function startAzurite(): Promise<Azurite> {
  const tables = await startAzuriteTables();
  const blob = blobServer();
  await blob.start();
  const { port } = blob.httpServer.address();
  let blobRequests = 0;
  blob.httpServer.on('request', () => {
    blobRequests++;
  });
  return {
    get requests() {
      return tables.requests + blobRequests;
    },
    connectionString: `${tables.connectionString}BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
    close: async () => {
      await Promise.all([tables.close(), blob.close()]);
    },
  };
}

/**
 * Blob and Table services over HTTPS with Azurite's basic OAuth (bearer tokens checked for a
 * storage audience, an Entra issuer and expiry), as an account with shared keys disabled is
 * reached: by service URI and an Entra ID credential. The certificate is self-signed: clients
 * run with NODE_TLS_REJECT_UNAUTHORIZED=0.
 */
export async function startAzuriteOAuth(cert: string, key: string): Promise<{ blobServiceUri: string; tableServiceUri: string; close(): Promise<void> }> {
  const [table, blob] = [tableServer({ cert, key }), blobServer({ cert, key })];
  await Promise.all([table.start(), blob.start()]);
  return {
    tableServiceUri: `https://127.0.0.1:${table.httpServer.address().port}/devstoreaccount1`,
    blobServiceUri: `https://127.0.0.1:${blob.httpServer.address().port}/devstoreaccount1`,
    close: async () => {
      await Promise.all([table.close(), blob.close()]);
    },
  };
}
