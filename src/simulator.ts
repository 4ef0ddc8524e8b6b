// The composition root: builds every service once from the config (stores, limiter, recordings,
// events, live config, telemetry, extension), then the pipelines and the router over them.

import { liveConfig } from './admin/live-config';
import { ConfigError, type SimulatorConfig } from './config';
import { type AoaiError, recordingStoreUnavailable } from './errors';
import { eventDirectory, type EventDirectory } from './events/directory';
import { createExtensionApi, ExtensionError, loadExtension, type ExtensionRegistry } from './extensions';
import { createFaultState } from './faults';
import { createLimiter } from './limits/limiter';
import { memoryCounterStore, type CounterStore } from './limits/counters';
import { log } from './log';
import { createRecordReplay, type RecordReplay } from './modes/record-replay';
import { keyChecker } from './pipeline/authenticate';
import type { Services } from './pipeline/exchange';
import { pipelines } from './pipeline/index';
import { deploymentResolver } from './pipeline/resolve';
import { createRouter } from './pipeline/router';
import { OPERATION_ROUTES } from './routes';
import { tablePatchStore } from './storage/config-patches';
import { tableBackendSource } from './storage/backend-table';
import { tableCounterStore } from './storage/counter-table';
import { eventTables } from './storage/event-tables';
import { blobRecordingStore } from './storage/recording-blob';
import { blobResponseStore } from './storage/response-blob';
import { memoryResponseStore } from './operations/responses/store';
import { folderRecordingStore } from './storage/recording-folder';
import { simulatorMetrics } from './telemetry/metrics';

export interface Simulator {
  /** Synchronous when the answer needs no I/O (hosts write those on their fastest path). */
  fetch(request: Request): Response | Promise<Response>;
  /** Settles when the extension (if any) has finished starting; rejects with its ExtensionError. */
  ready: Promise<void>;
  config: SimulatorConfig;
  /** Stops timers and saves recordings not yet saved. */
  close(): Promise<void>;
}

export function createSimulator(config: SimulatorConfig): Simulator {
  const storage = config.storage;
  const counters: CounterStore = storage ? tableCounterStore(storage, config.rateLimits.table) : memoryCounterStore();
  let storeFailing = false;
  const limiter = createLimiter({
    store: counters,
    oneSecondWindow: config.rateLimits.oneSecondWindow,
    failurePolicy: config.rateLimits.failurePolicy,
    storeTimeoutMs: config.rateLimits.storeTimeoutMs,
    onStoreError: (err) => {
      // Said once per outage, not once per request.
      if (storeFailing) return;
      storeFailing = true;
      log.error(`rate-limit store (${counters.name}) failed; failing ${config.rateLimits.failurePolicy}: ${(err as Error).message}`);
      setTimeout(() => {
        storeFailing = false;
      }, 60000).unref();
    },
  });

  // Event codes need storage; the directory (and its refresh timer) starts with the first key
  // that is not the simulator's, so deployments without events never read the table.
  let events: EventDirectory | undefined;
  const eventsOf = (): EventDirectory | undefined =>
    storage
      ? (events ??= eventDirectory(eventTables(storage, { events: config.events.table, usage: config.events.usageTable }), config.events.refreshSeconds * 1000))
      : undefined;

  const extensions: ExtensionRegistry = { routes: [], generators: new Map(), forwarders: [] };
  let recordReplay: RecordReplay | undefined;
  const recordings = (): RecordReplay => {
    if (recordReplay) return recordReplay;
    try {
      const store = storage ? blobRecordingStore(storage, config.recording.container) : folderRecordingStore(config.recording.dir);
      const table = config.forward.table;
      const backendRows = storage && table ? tableBackendSource(storage, table.name, table.partition) : undefined;
      return (recordReplay = createRecordReplay(config, store, extensions.forwarders, backendRows));
    } catch (err) {
      // e.g. a storage connection string without a Blob endpoint
      throw recordingStoreUnavailable(`The recording store cannot be used: ${(err as Error).message}`);
    }
  };
  // A store that cannot work is a start-up error in the modes that need it.
  if (config.mode !== 'generate') {
    try {
      recordings();
    } catch (err) {
      throw new ConfigError((err as AoaiError).message);
    }
  }

  const isAuthorized = keyChecker(config.apiKey);
  const services: Services = {
    config,
    limiter,
    faults: createFaultState(),
    metrics: simulatorMetrics(),
    deployments: deploymentResolver(config),
    events: eventsOf,
    responses: storage ? blobResponseStore(storage, config.responsesContainer) : memoryResponseStore(),
    recordings,
    generators: extensions.generators,
    isAuthorized,
  };

  // Live configuration (PATCH /++/config), shared through storage when there is some.
  const live = liveConfig(config, storage ? tablePatchStore(storage, config.configSync.table) : undefined, () => {
    services.deployments.clear();
    services.faults.reset();
  });

  const ready = startExtension(config, extensions, services);
  const router = createRouter({
    services,
    pipelines: pipelines(services),
    admin: { live },
    extensionRoutes: extensions.routes,
    hasForwarders: () => extensions.forwarders.length > 0,
  });

  return {
    fetch: (request) => router.fetch(request),
    ready,
    config,
    async close() {
      await limiter.close();
      await events?.close();
      live.stop();
      await recordReplay?.close();
    },
  };
}

/** The extension, if any: it registers before the router is built, so its routes come first. */
function startExtension(config: SimulatorConfig, registry: ExtensionRegistry, services: Services): Promise<void> {
  if (!config.extensionPath) return Promise.resolve();
  const extension = loadExtension(config.extensionPath);
  const api = createExtensionApi({
    config,
    registry,
    limiter: services.limiter,
    operations: new Map(OPERATION_ROUTES.map((r) => [r.name, r.operation!])),
    isAuthorized: (request, header) => (header ? keyChecker(config.apiKey, header)(request) : services.isAuthorized(request)),
  });
  const failed = (err: unknown) => new ExtensionError(`EXTENSION_PATH ${config.extensionPath}: initialize() failed: ${(err as Error).message}`);
  let started: void | Promise<void>;
  try {
    started = extension.initialize(api);
  } catch (err) {
    throw failed(err);
  }
  const pending = started as Promise<void> | undefined;
  return typeof pending?.then === 'function'
    ? Promise.resolve(pending).catch((err: unknown) => {
        throw failed(err);
      })
    : Promise.resolve();
}
