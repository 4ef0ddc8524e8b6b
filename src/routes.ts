// The one route table both hosts use: the core routes requests by it, and the Functions app
// registers one function per row (functions/index.ts).

import { audioTranscriptions, audioTranslations } from './operations/audio';
import { chatCompletions } from './operations/chat-completions';
import { completions } from './operations/completions';
import { embeddings } from './operations/embeddings';
import { imageGenerations } from './operations/images';
import { getModel, listModels } from './operations/models';
import type { Operation, ResourceHandler } from './operations/operation';
import { responses } from './operations/responses';
import { cancelResponse, deleteResponse, getResponse, listInputItems } from './operations/responses/actions';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface RouteDefinition {
  /** Azure Functions function name. */
  name: string;
  methods: Method[];
  /** Core path, Hono syntax (`:param`). */
  path: string;
  /** Azure Functions route template (ASP.NET syntax, no leading slash). */
  functionsRoute: string;
  operation?: Operation;
  /** Where the deployment is named: the path's `:deployment` (classic), or the body's `model`. */
  deploymentFrom?: 'path' | 'body';
  /** The api-versions the route takes (operation and resource routes). */
  apiVersions?: ApiVersionRule;
  /** A stored resource rather than a model call: stored responses, the models list. */
  resource?: ResourceHandler;
}

/**
 * classic: a dated version (`2024-10-21`, `2025-04-01-preview`), or `v1`/`preview`/`latest`;
 * optional: the v1 API, where any of those or none may come;
 * responses: as classic, dated ones from 2025-03-01-preview on (older: AOAI's 400).
 */
export type ApiVersionRule = 'classic' | 'optional' | 'responses';

const toFunctionsRoute = (path: string) => path.replace(/^\//, '').replace(/:([A-Za-z]+)/g, '{$1}');

const route = (name: string, methods: Method[], path: string, extra: Partial<RouteDefinition>): RouteDefinition => ({
  name,
  methods,
  path,
  functionsRoute: toFunctionsRoute(path),
  ...extra,
});

/** The classic operations, by their path below a deployment or the v1 prefix. */
const OPERATIONS: [name: string, op: string, operation: Operation][] = [
  ['chatCompletions', 'chat/completions', chatCompletions],
  ['completions', 'completions', completions],
  ['embeddings', 'embeddings', embeddings],
  ['audioTranscriptions', 'audio/transcriptions', audioTranscriptions],
  ['audioTranslations', 'audio/translations', audioTranslations],
  ['imageGenerations', 'images/generations', imageGenerations],
];

export const OPERATION_ROUTES: readonly RouteDefinition[] = [
  ...OPERATIONS.map(([name, op, operation]) =>
    route(name, ['POST'], `/openai/deployments/:deployment/${op}`, { operation, deploymentFrom: 'path', apiVersions: 'classic' }),
  ),
  route('responses', ['POST'], '/openai/deployments/:deployment/responses', { operation: responses, deploymentFrom: 'path', apiVersions: 'responses' }),
  route('responsesByModel', ['POST'], '/openai/responses', { operation: responses, deploymentFrom: 'body', apiVersions: 'responses' }),
  // The v1 API: the deployment is the body's model; what AzureOpenAI sends with a v1 base URL too.
  ...OPERATIONS.map(([name, op, operation]) =>
    route(`${name}V1`, ['POST'], `/openai/v1/${op}`, { operation, deploymentFrom: 'body', apiVersions: 'optional' }),
  ),
  route('responsesV1', ['POST'], '/openai/v1/responses', { operation: responses, deploymentFrom: 'body', apiVersions: 'optional' }),
  ...OPERATIONS.map(([name, op, operation]) =>
    route(`${name}V1Deployment`, ['POST'], `/openai/v1/deployments/:deployment/${op}`, { operation, deploymentFrom: 'path', apiVersions: 'optional' }),
  ),
];

/** Stored responses and the models list, under the classic prefix (with an api-version) and v1. */
export const RESOURCE_ROUTES: readonly RouteDefinition[] = [
  ...(
    [
      ['', 'responses'],
      ['/v1', 'optional'],
    ] as const
  ).flatMap(([prefix, apiVersions]) => {
    const v = prefix ? 'V1' : '';
    return [
      route(`getResponse${v}`, ['GET'], `/openai${prefix}/responses/:id`, { resource: getResponse, apiVersions }),
      route(`deleteResponse${v}`, ['DELETE'], `/openai${prefix}/responses/:id`, { resource: deleteResponse, apiVersions }),
      route(`listInputItems${v}`, ['GET'], `/openai${prefix}/responses/:id/input_items`, { resource: listInputItems, apiVersions }),
      route(`cancelResponse${v}`, ['POST'], `/openai${prefix}/responses/:id/cancel`, { resource: cancelResponse, apiVersions }),
      route(`listModels${v}`, ['GET'], `/openai${prefix}/models`, { resource: listModels, apiVersions: prefix ? 'optional' : 'classic' }),
      route(`getModel${v}`, ['GET'], `/openai${prefix}/models/:id`, { resource: getModel, apiVersions: prefix ? 'optional' : 'classic' }),
    ];
  }),
];

export const HEALTH_ROUTE: RouteDefinition = {
  // The Functions host cannot bind an empty route; this template matches only the root
  // (with AzureWebJobsDisableHomepage=true so the host's own page steps aside).
  name: 'health',
  methods: ['GET'],
  path: '/',
  functionsRoute: '{ignored:maxlength(0)?}',
};

export const IMAGE_FILE_ROUTE: RouteDefinition = {
  name: 'generatedImages',
  methods: ['GET'],
  path: '/++/images/:size/:file',
  functionsRoute: '++/images/{size}/{file}',
};

/** The live configuration: GET to read, PATCH to change (simulator key required). */
export const CONFIG_ROUTE: RouteDefinition = {
  name: 'config',
  methods: ['GET', 'PATCH'],
  path: '/++/config',
  functionsRoute: '++/config',
};

/** This process's metrics as Prometheus text (simulator key required). */
export const METRICS_ROUTE: RouteDefinition = {
  name: 'metrics',
  methods: ['GET'],
  path: '/++/metrics',
  functionsRoute: '++/metrics',
};

/** Event usage per event, attendee and day (simulator key required). */
export const EVENTS_USAGE_ROUTE: RouteDefinition = {
  name: 'eventUsage',
  methods: ['GET'],
  path: '/++/events/usage',
  functionsRoute: '++/events/usage',
};

/** Record mode with RECORDING_AUTOSAVE off: writes what was recorded (simulator key required). */
export const SAVE_RECORDINGS_ROUTE: RouteDefinition = {
  name: 'saveRecordings',
  methods: ['POST'],
  path: '/++/save-recordings',
  functionsRoute: '++/save-recordings',
};

/** The workshop playground page (public: it asks for an event code or the key, kept in the browser's session). */
export const PLAYGROUND_ROUTE: RouteDefinition = {
  name: 'playground',
  methods: ['GET'],
  path: '/playground',
  functionsRoute: 'playground',
};

/** The organisers' dashboard page (its data needs the simulator key; the page asks for it). */
export const DASHBOARD_ROUTE: RouteDefinition = {
  name: 'dashboard',
  methods: ['GET'],
  path: '/++/dashboard',
  functionsRoute: '++/dashboard',
};

/** The dashboard's figures: deployments' use of their windows, recordings, events (simulator key required). */
export const DASHBOARD_DATA_ROUTE: RouteDefinition = {
  name: 'dashboardData',
  methods: ['GET'],
  path: '/++/dashboard/data',
  functionsRoute: '++/dashboard/data',
};

/** The pages' static files (the chart library). */
export const PAGE_ASSET_ROUTE: RouteDefinition = {
  name: 'pageAssets',
  methods: ['GET'],
  path: '/++/assets/:file',
  functionsRoute: '++/assets/{file}',
};

/** Functions only: everything else reaches the core, which answers with AOAI's 404/405 bodies. */
export const FALLBACK_ROUTE: RouteDefinition = {
  // The host maps functions in name order (FunctionMetadataManager sorts them) and the first
  // matching route wins: the catch-all's name must sort after every other function's.
  name: 'zzCatchAll',
  // HEAD and OPTIONS too: the core answers them (405 on an operation's route, 404 elsewhere).
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  path: '/*',
  functionsRoute: '{*path}',
};

export const ALL_ROUTES: readonly RouteDefinition[] = [
  HEALTH_ROUTE,
  ...OPERATION_ROUTES,
  ...RESOURCE_ROUTES,
  IMAGE_FILE_ROUTE,
  CONFIG_ROUTE,
  METRICS_ROUTE,
  EVENTS_USAGE_ROUTE,
  SAVE_RECORDINGS_ROUTE,
  PLAYGROUND_ROUTE,
  DASHBOARD_ROUTE,
  DASHBOARD_DATA_ROUTE,
  PAGE_ASSET_ROUTE,
  FALLBACK_ROUTE,
];
