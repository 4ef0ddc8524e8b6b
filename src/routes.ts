// The one route table both hosts use: the core routes requests by it, and the Functions app
// registers one function per row (functions/index.ts).

import type { Operation } from './operations/operation';
import { audioTranscriptions, audioTranslations } from './operations/audio';
import { chatCompletions } from './operations/chat-completions';
import { completions } from './operations/completions';
import { embeddings } from './operations/embeddings';
import { imageGenerations } from './operations/images';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteDefinition {
  /** Azure Functions function name. */
  name: string;
  methods: Method[];
  /** Core path, Hono syntax (`:param`). */
  path: string;
  /** Azure Functions route template (ASP.NET syntax, no leading slash). */
  functionsRoute: string;
  operation?: Operation;
}

const toFunctionsRoute = (path: string) => path.replace(/^\//, '').replace(/:([A-Za-z]+)/g, '{$1}');

const deploymentRoute = (name: string, op: string, operation: Operation): RouteDefinition => {
  const path = `/openai/deployments/:deployment/${op}`;
  return { name, methods: ['POST'], path, functionsRoute: toFunctionsRoute(path), operation };
};

export const OPERATION_ROUTES: readonly RouteDefinition[] = [
  deploymentRoute('chatCompletions', 'chat/completions', chatCompletions),
  deploymentRoute('completions', 'completions', completions),
  deploymentRoute('embeddings', 'embeddings', embeddings),
  deploymentRoute('audioTranscriptions', 'audio/transcriptions', audioTranscriptions),
  deploymentRoute('audioTranslations', 'audio/translations', audioTranslations),
  deploymentRoute('imageGenerations', 'images/generations', imageGenerations),
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

/** Functions only: everything else reaches the core, which answers with AOAI's 404/405 bodies. */
export const FALLBACK_ROUTE: RouteDefinition = {
  name: 'fallback',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  path: '/*',
  functionsRoute: '{*path}',
};

export const ALL_ROUTES: readonly RouteDefinition[] = [
  HEALTH_ROUTE,
  ...OPERATION_ROUTES,
  IMAGE_FILE_ROUTE,
  CONFIG_ROUTE,
  METRICS_ROUTE,
  EVENTS_USAGE_ROUTE,
  SAVE_RECORDINGS_ROUTE,
  FALLBACK_ROUTE,
];
