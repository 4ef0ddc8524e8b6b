// The standalone host (`npm start`): node:http via @hono/node-server around the same core.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { ConfigError, createSimulator, cutLiveStreams, loadConfig, warmEncoders, type SimulatorConfig } from '../src';
import { closeGracefully } from './shutdown';

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A timeout from the environment in seconds, as node:http's milliseconds. */
function seconds(raw: string | undefined, fallback: number): number {
  const value = Number(raw ?? fallback);
  return (Number.isFinite(value) && value > 0 ? value : fallback) * 1000;
}

export async function startServer(config: SimulatorConfig, port = 8000, hostname = '0.0.0.0'): Promise<RunningServer> {
  const simulator = createSimulator(config);
  await simulator.ready; // an extension's start-up finishes before the first request
  return new Promise((resolve, reject) => {
    // Early answers (401, 404, 429) leave the request body unread; node:http discards it when the
    // response ends, so the adapter's own per-request drain timers are not needed.
    const server = serve(
      {
        fetch: simulator.fetch,
        port,
        hostname,
        autoCleanupIncoming: false,
        // How often node:http checks the header and request timeouts below (its default: 30 s).
        serverOptions: { connectionsCheckingInterval: 1000 },
      },
      (info: AddressInfo) => {
        const host = hostname === '0.0.0.0' || hostname === '::' ? 'localhost' : hostname;
        resolve({
          url: `http://${host}:${info.port}`,
          port: info.port,
          // In flight gets SHUTDOWN_GRACE_SECONDS to finish; then recordings and usage are saved.
          close: () => closeGracefully(server as Server, seconds(process.env.SHUTDOWN_GRACE_SECONDS, 10), cutLiveStreams).then(() => simulator.close()),
        });
      },
    );
    // A client that sends headers and never its body, or opens a connection and sends nothing,
    // is cut off; answers (paced streams included) are never limited by these.
    const http = server as Server;
    http.headersTimeout = seconds(process.env.SERVER_HEADERS_TIMEOUT_SECONDS, 10);
    http.requestTimeout = Math.max(http.headersTimeout, seconds(process.env.SERVER_REQUEST_TIMEOUT_SECONDS, 60));
    http.keepAliveTimeout = seconds(process.env.SERVER_KEEP_ALIVE_TIMEOUT_SECONDS, 5);
    server.once('error', reject);
  });
}

async function main(): Promise<void> {
  let config: SimulatorConfig;
  const configError = (err: unknown): never => {
    if (err instanceof ConfigError) {
      console.error(`Configuration error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  };
  try {
    config = loadConfig();
  } catch (err) {
    return configError(err);
  }
  if (config.apiKeyGenerated) {
    console.log(`SIMULATOR_API_KEY is not set; this run's generated key is: ${config.apiKey}`);
  }
  warmEncoders();
  const port = Number(process.env.PORT ?? 8000);
  const running = await startServer(config, port, process.env.HOST ?? '0.0.0.0').catch(configError);
  // Handlers go in before readiness is announced, so a supervisor's prompt SIGTERM is graceful.
  const shutdown = (signal: string) => {
    console.log(`${signal} received, shutting down`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  console.log(`aoai-simulator (${config.mode}) listening on ${running.url} with ${config.deployments.size} deployments`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
