// Stage 1, route: the Hono app over the one route table. Extension routes first, then health,
// generated images, the admin routes, the pages, each operation's route, and AOAI's 404/405 for the rest.

import { Hono } from 'hono';
import { getPath } from 'hono/utils/url';
import { registerAdminRoutes, type AdminDeps } from '../admin/routes';
import { methodNotAllowed, resourceNotFound } from '../errors';
import type { ExtensionRoute } from '../extensions';
import { baseHeaders, failureResponse, jsonResponse } from '../http';
import { uriPath } from '../modes/recordings/format';
import { serveImage } from '../operations/images';
import { registerPageRoutes } from '../pages';
import { arrive, type Services } from './exchange';
import { limitsOf } from './resolve';
import type { Pipelines } from './index';
import { HEALTH_ROUTE, IMAGE_FILE_ROUTE, OPERATION_ROUTES, RESOURCE_ROUTES, type Method, type RouteDefinition } from '../routes';

const OTHER_METHODS: Method[] = ['GET', 'PUT', 'PATCH', 'DELETE'];
const DEPLOYMENT_IN_PATH = /^\/openai\/deployments\/([^/]+)\//;

export interface RouterDeps {
  services: Services;
  pipelines: Pipelines;
  admin: Omit<AdminDeps, 'config' | 'metrics' | 'isAuthorized' | 'events' | 'recordings' | 'windowUsage'>;
  extensionRoutes: readonly ExtensionRoute[];
  /** Record mode also forwards paths an extension's forwarder may answer. */
  hasForwarders: () => boolean;
}

export function createRouter({ services, pipelines, admin, extensionRoutes, hasForwarders }: RouterDeps): Hono {
  const { config } = services;
  const app = new Hono({
    // Clients that join an endpoint ending in '/' with '/openai/...' send '//'; AOAI tolerates it.
    getPath: (req) => {
      const path = getPath(req);
      return path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
    },
  });
  for (const route of extensionRoutes) {
    app.on(
      route.methods.map((m) => m.toUpperCase()),
      route.path,
      (c) => route.handler(c.req.raw, c.req.param() as Record<string, string>),
    );
  }
  app.get(HEALTH_ROUTE.path, (c) => jsonResponse(200, { message: '👋 aoai-api-simulator is running' }, baseHeaders(c.req.raw, config.region)));
  app.get(IMAGE_FILE_ROUTE.path, (c) => serveImage(c.req.param('size') ?? '', c.req.param('file') ?? '', baseHeaders(c.req.raw, config.region)));
  registerAdminRoutes(app, {
    ...admin,
    config,
    metrics: services.metrics,
    isAuthorized: services.isAuthorized,
    events: services.events,
    recordings: services.recordings,
    windowUsage: (deployment) => {
      const limits = limitsOf(config, deployment);
      if (!limits) return Promise.resolve([]);
      // The windows the dashboard shows: the 1 s request window would cost a storage read per poll for nothing.
      const shown = services.limiter.dimensions(limits, 0).filter((d) => d.windowMs !== 1000);
      return services.limiter.usage(deployment.name, shown);
    },
  });
  registerPageRoutes(app);

  const run = (request: Request, route: RouteDefinition, deployment: string | undefined, apiVersion: string | undefined) =>
    pipelines.operation[config.mode](arrive(request, baseHeaders(request, config.region), services, route, deployment, apiVersion));
  for (const route of OPERATION_ROUTES) {
    const fromPath = route.deploymentFrom === 'path';
    app.on(route.methods, route.path, (c) => run(c.req.raw, route, fromPath ? c.req.param('deployment') : undefined, c.req.query('api-version')));
    // Other methods only: a second handler matching POST would put every request through Hono's
    // middleware chain instead of its direct single-handler call.
    app.on(
      [...OTHER_METHODS, 'HEAD', 'OPTIONS'].filter((m) => !route.methods.includes(m as Method)),
      route.path,
      () => {
        throw methodNotAllowed();
      },
    );
  }
  for (const route of RESOURCE_ROUTES) {
    app.on(route.methods, route.path, (c) => {
      const request = c.req.raw;
      const x = arrive(request, baseHeaders(request, config.region), services, route, undefined, c.req.query('api-version'));
      if (config.mode !== 'generate') return pipelines.other[config.mode](x);
      x.params = c.req.param() as Record<string, string>;
      return pipelines.resource(x);
    });
  }

  app.notFound((c) => {
    const request = c.req.raw;
    const path = uriPath(request.url);
    const headers = baseHeaders(request, config.region);
    if (config.mode === 'generate' || (!path.startsWith('/openai/') && !hasForwarders())) return failureResponse(resourceNotFound(), headers);
    const deployment = DEPLOYMENT_IN_PATH.exec(path)?.[1];
    return pipelines.other[config.mode](arrive(request, headers, services, undefined, deployment, undefined));
  });
  app.onError((err, c) => failureResponse(err, baseHeaders(c.req.raw, config.region)));
  return app;
}
