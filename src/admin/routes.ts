// The admin routes, all behind the simulator key: GET/PATCH /++/config, GET /++/metrics,
// GET /++/events/usage, GET /++/dashboard/data and POST /++/save-recordings.

import type { Hono } from 'hono';
import type { SimulatorConfig } from '../config';
import { AoaiError, configStoreUnavailable, eventsNotConfigured, invalidConfiguration, invalidJson, notInRecordMode, unauthorized } from '../errors';
import type { EventDirectory } from '../events/directory';
import { baseHeaders, decodeUtf8, errorResponse, failureResponse, jsonResponse, readBody, textResponse, type Headers } from '../http';
import type { RecordReplay } from '../modes/record-replay';
import { CONFIG_ROUTE, DASHBOARD_DATA_ROUTE, EVENTS_USAGE_ROUTE, METRICS_ROUTE, SAVE_RECORDINGS_ROUTE } from '../routes';
import { dashboardData, type DashboardDeps } from './dashboard';
import { ConfigPatchError, configView, type LiveConfig } from './live-config';
import type { SimulatorMetrics } from '../telemetry/metrics';

export interface AdminDeps {
  config: SimulatorConfig;
  live: LiveConfig;
  metrics: SimulatorMetrics;
  /** The event directory, or undefined without storage. */
  events(): EventDirectory | undefined;
  recordings(): RecordReplay;
  isAuthorized(request: Request): boolean;
  windowUsage: DashboardDeps['windowUsage'];
}

export function registerAdminRoutes(app: Hono, deps: AdminDeps): void {
  const { config } = deps;

  /** Runs `answer` for a caller with the simulator key; any error becomes an AOAI-shaped answer. */
  const admin = (answer: (request: Request, headers: Headers) => Response | Promise<Response>) => async (request: Request) => {
    const headers = baseHeaders(request, config.region);
    try {
      if (!deps.isAuthorized(request)) throw unauthorized();
      return await answer(request, headers);
    } catch (err) {
      if (err instanceof ConfigPatchError) return errorResponse(invalidConfiguration(err.message), headers);
      return failureResponse(err, headers);
    }
  };

  const configRoute = admin(async (request, headers) => {
    await deps.live.ready;
    if (request.method === 'PATCH') {
      let patch: unknown;
      try {
        patch = JSON.parse(decodeUtf8(await readBody(request, 1024 * 1024)));
      } catch (err) {
        if (err instanceof AoaiError) throw err;
        throw invalidJson();
      }
      await deps.live.patch(patch);
    }
    return jsonResponse(200, configView(config), headers);
  });

  const saveRecordings = admin(async (_request, headers) => {
    if (config.mode !== 'record') throw notInRecordMode(config.mode);
    const saved = await deps.recordings().save();
    return jsonResponse(200, { message: '📼 Recordings saved', ...saved, store: deps.recordings().storeName }, headers);
  });

  const eventUsage = admin(async (request, headers) => {
    const directory = deps.events();
    if (!directory) throw eventsNotConfigured();
    let rows: Awaited<ReturnType<EventDirectory['usage']>>;
    try {
      rows = await directory.usage();
    } catch (err) {
      throw configStoreUnavailable(`The event usage table is unavailable: ${(err as Error).message}`);
    }
    const event = new URL(request.url).searchParams.get('event');
    return jsonResponse(200, { usage: event ? rows.filter((r) => r.event === event) : rows }, headers);
  });

  const metricsRoute = admin(async (_request, headers) =>
    textResponse(200, await deps.metrics.prometheus(), headers, 'text/plain; version=0.0.4; charset=utf-8'),
  );

  const dashboardRoute = admin(async (_request, headers) => jsonResponse(200, await dashboardData(deps), { ...headers, 'cache-control': 'no-store' }));

  app.on(CONFIG_ROUTE.methods, CONFIG_ROUTE.path, (c) => configRoute(c.req.raw));
  app.post(SAVE_RECORDINGS_ROUTE.path, (c) => saveRecordings(c.req.raw));
  app.get(EVENTS_USAGE_ROUTE.path, (c) => eventUsage(c.req.raw));
  app.get(METRICS_ROUTE.path, (c) => metricsRoute(c.req.raw));
  app.get(DASHBOARD_DATA_ROUTE.path, (c) => dashboardRoute(c.req.raw));
}
