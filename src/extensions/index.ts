// Extensions: EXTENSION_PATH names a module (a .js file, or a folder with index.js / package.json
// "main"; a .ts file where Node strips types) exporting `initialize(api)`. Through the api an
// extension adds routes, replaces built-in generators, adds record-mode forwarders and creates
// rate limiters over the simulator's own (shared) counters. Routes must be added synchronously
// in `initialize`; it may return a promise for other start-up work, which requests wait for.

import { resolve } from 'node:path';
import { ConfigError, type SimulatorConfig } from '../config';
import * as errors from '../errors';
import { errorResponse, jsonResponse, textResponse, type Headers } from '../http';
import type { Limiter } from '../limits/limiter';
import type { Operation, RequestContext } from '../operations/operation';
import { chatAnswer, type ChatCompletionRequest } from '../operations/chat-completions';
import { sleepUntil } from '../pacing/stream';

/** Built-in operations whose generator an extension may replace. */
export type OperationName = 'chatCompletions' | 'completions' | 'embeddings' | 'audioTranscriptions' | 'audioTranslations' | 'imageGenerations';

export type Generator<Req = unknown> = (request: Req, ctx: RequestContext) => Response | Promise<Response>;

export interface ExtensionRoute {
  methods: string[];
  /** Hono syntax: `/formrecognizer/documentModels/:modelId/analyzeResults/:resultId`. */
  path: string;
  handler: (request: Request, params: Record<string, string>) => Response | Promise<Response>;
}

/** A record-mode forwarder: answer (the answer is passed on, and recorded if 2xx) or return undefined to pass. */
export type Forwarder = (request: Request, body: Uint8Array) => Response | undefined | Promise<Response | undefined>;

/** Admits or refuses one request: undefined when admitted, else the 429 to send. */
export type ExtensionLimiter = (cost?: number) => Promise<Response | undefined>;

export interface ExtensionApi {
  /** The live configuration (it changes with PATCH /++/config); read only. */
  readonly config: Readonly<SimulatorConfig>;
  addRoute(route: ExtensionRoute): void;
  /** Replaces a built-in generator; parsing, validation, limits and latency stay the simulator's. */
  replaceGenerator(operation: 'chatCompletions', generate: Generator<ChatCompletionRequest>): void;
  replaceGenerator(operation: OperationName, generate: Generator): void;
  /** Record mode: tried, in order, before the built-in Azure OpenAI forwarder, for any path. */
  addForwarder(forward: Forwarder): void;
  /** A limiter over the simulator's counter store (shared across instances with storage). */
  createLimiter(name: string, limits: { requestsPerMinute?: number; tokensPerMinute?: number; message?: (seconds: number) => string }): ExtensionLimiter;
  helpers: ExtensionHelpers;
}

export interface ExtensionHelpers {
  /** Constant-time check of a key header (default `api-key` or Bearer) against the simulator key. */
  isAuthorized(request: Request, header?: string): boolean;
  jsonResponse(status: number, body: unknown, headers?: Headers): Response;
  textResponse(status: number, text: string, headers?: Headers, contentType?: string): Response;
  /** AOAI-shaped errors as Responses, e.g. `errorResponse(errors.unauthorized())`. */
  errorResponse(error: errors.AoaiError): Response;
  errors: typeof errors;
  /** A chat answer in AOAI's exact shape (JSON, or SSE when the request streams), paced by the simulator's latency. */
  chatCompletion(request: ChatCompletionRequest, ctx: RequestContext, content: string, finishReason?: 'stop' | 'length'): Response | Promise<Response>;
  /** Resolves at an epoch-ms time, on the simulator's shared timer. */
  sleepUntil(at: number): Promise<void>;
}

export interface Extension {
  initialize(api: ExtensionApi): void | Promise<void>;
}

export class ExtensionError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'ExtensionError';
  }
}

/** Loads EXTENSION_PATH: a clear ExtensionError for a missing file, a load failure or no initialize(). */
export function loadExtension(path: string): Extension {
  const target = resolve(path);
  let loaded: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(target);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint =
      target.endsWith('.ts') && /Unknown file extension|Unexpected token|SyntaxError/.test(String(e.message))
        ? ' (a .ts extension needs a Node that strips types (22.18+); otherwise compile it to .js)'
        : '';
    throw new ExtensionError(`EXTENSION_PATH ${target} could not be loaded${hint}: ${e.code === 'MODULE_NOT_FOUND' ? 'not found' : e.message}`);
  }
  const candidate = loaded as { initialize?: unknown; default?: { initialize?: unknown } };
  const initialize = candidate.initialize ?? candidate.default?.initialize;
  if (typeof initialize !== 'function') {
    throw new ExtensionError(`EXTENSION_PATH ${target} must export a function initialize(api).`);
  }
  return { initialize: initialize as Extension['initialize'] };
}

/** What the pipeline keeps of its extension. */
export interface ExtensionRegistry {
  routes: ExtensionRoute[];
  generators: Map<Operation, Generator>;
  forwarders: Forwarder[];
}

export interface ExtensionDeps {
  config: SimulatorConfig;
  registry: ExtensionRegistry;
  /** Built-in operations by name. */
  operations: ReadonlyMap<string, Operation>;
  limiter: Limiter;
  isAuthorized(request: Request, header?: string): boolean;
}

/** The api an extension's initialize() gets: it fills `deps.registry`. */
export function createExtensionApi(deps: ExtensionDeps): ExtensionApi {
  const { registry, limiter } = deps;
  return {
    config: deps.config,
    addRoute(route) {
      if (!Array.isArray(route.methods) || !route.methods.length || typeof route.path !== 'string' || typeof route.handler !== 'function') {
        throw new ExtensionError('addRoute needs { methods: [...], path, handler }.');
      }
      registry.routes.push(route);
    },
    replaceGenerator(name: string, generate: Generator) {
      const operation = deps.operations.get(name);
      if (!operation) throw new ExtensionError(`replaceGenerator: no operation '${name}' (use ${[...deps.operations.keys()].join(', ')}).`);
      registry.generators.set(operation, generate);
    },
    addForwarder(forward) {
      registry.forwarders.push(forward);
    },
    createLimiter(name, limits) {
      const scope = `extension:${name}`;
      const deploymentLimits = { tokensPerMinute: limits.tokensPerMinute, requestsPerMinute: limits.requestsPerMinute, tokenLimited: true };
      return async (cost = 0) => {
        const admission = await limiter.admit(scope, limiter.dimensions(deploymentLimits, cost));
        if (admission.admitted) return undefined;
        const seconds = Number(admission.headers['retry-after']);
        const message = limits.message?.(seconds) ?? `Requests to ${name} have exceeded its rate limit. Please retry after ${seconds} seconds.`;
        return new Response(JSON.stringify({ error: { code: '429', message } }), {
          status: 429,
          headers: { ...admission.headers, 'content-type': 'application/json' },
        });
      };
    },
    helpers: {
      isAuthorized: deps.isAuthorized,
      jsonResponse: (status, body, headers = {}) => jsonResponse(status, body, { ...headers }),
      textResponse: (status, text, headers = {}, contentType) => textResponse(status, text, { ...headers }, contentType),
      errorResponse: (error) => errorResponse(error, {}),
      errors,
      chatCompletion: chatAnswer,
      sleepUntil,
    },
  } as ExtensionApi;
}
