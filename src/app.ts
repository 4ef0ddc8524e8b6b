// The core: a Web-standard fetch handler (Request → Response) that knows nothing of its host.
// Pipeline per AOAI request: auth → api-version → deployment → parse/validate → generate,
// with the common response headers on every answer, errors included.

import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { getPath } from 'hono/utils/url';
import { registerAdminRoutes } from './admin';
import { findModel, ROUTE_DEFAULT_MODEL, type OperationKind } from './catalogue';
import { ConfigError, type Deployment, type SimulatorConfig } from './config';
import {
  AoaiError, dailyCapReached, deploymentNotFound, internalError, methodNotAllowed, operationNotSupported, rateLimited, recordingStoreUnavailable,
  resourceNotFound, unauthorized,
} from './errors';
import { capMaxTokens, eventDirectory, type EventDirectory, type EventIdentity } from './events';
import { createExtensionApi, ExtensionError, loadExtension, type ExtensionRegistry } from './extensions';
import { createFaultState, earlyRetry, type FaultConfig } from './faults';
import { baseHeaders, errorResponse, jsonResponse, readBody, responseHeaders, type Headers } from './http';
import { globalProfile, slowdownFactor, type LatencyProfile } from './latency';
import { createLimiter, type Admission, type DeploymentLimits } from './limits/limiter';
import { memoryCounterStore, type CounterStore } from './limits/store';
import { tableCounterStore } from './limits/table-store';
import { log } from './log';
import type { Operation, RequestContext } from './operation';
import { serveImage } from './operations/images';
import { createRecordReplay, recordedTokens, recordedUsage, type RecordReplay } from './record-replay';
import { uriPath, type Interaction } from './recordings/format';
import { HEALTH_ROUTE, IMAGE_FILE_ROUTE, OPERATION_ROUTES, type Method } from './routes';
import { liveConfig } from './runtime-config';
import { attributes, simulatorMetrics } from './telemetry';
import { answerAfter } from './timing';

export interface Simulator {
  /** Synchronous when the answer needs no I/O (hosts write those on their fastest path). */
  fetch(request: Request): Response | Promise<Response>;
  /** Settles when the extension (if any) has finished starting; rejects with its ExtensionError. */
  ready: Promise<void>;
  config: SimulatorConfig;
  /** Stops timers and saves recordings not yet saved. */
  close(): Promise<void>;
}

// AOAI api-versions: 2024-10-21, 2025-04-01-preview, ...
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
const MAX_INFERRED_DEPLOYMENTS = 1000;
const DAY_MS = 86_400_000;

export function createSimulator(config: SimulatorConfig): Simulator {
  const isAuthorized = keyChecker(config.apiKey);
  const deployments = deploymentResolver(config);
  const resolveDeployment = deployments.resolve;
  const counters: CounterStore = config.storageConnectionString
    ? tableCounterStore(config.storageConnectionString, config.rateLimits.table)
    : memoryCounterStore();
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
      setTimeout(() => { storeFailing = false; }, 60000).unref();
    },
  });

  const faultState = createFaultState();
  // Event codes need storage; the directory (and its refresh timer) starts with the first key
  // that is not the simulator's, so deployments without events never read the table.
  let events: EventDirectory | undefined;
  const eventDirectoryOf = (): EventDirectory | undefined => (config.storageConnectionString
    ? (events ??= eventDirectory(config.storageConnectionString, { events: config.events.table, usage: config.events.usageTable },
      config.events.refreshSeconds * 1000))
    : undefined);
  const metrics = simulatorMetrics();

  /** latency.base and latency.full (seconds) for one answer. */
  function observeLatency(deployment: string, status: number, startedAt: number, fullAt = Date.now(), baseAt = fullAt): void {
    const attrs = attributes(deployment, 'status_code', status);
    metrics.latencyBase.record((baseAt - startedAt) / 1000, attrs);
    metrics.latencyFull.record((fullAt - startedAt) / 1000, attrs);
  }
  let recordReplay: RecordReplay | undefined;
  const extensions: ExtensionRegistry = { routes: [], generators: new Map(), forwarders: [] };
  const recordings = (): RecordReplay => {
    if (recordReplay) return recordReplay;
    try {
      return (recordReplay = createRecordReplay(config, extensions.forwarders));
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

  const limitsOf = (deployment: Deployment): DeploymentLimits | undefined => {
    const defined = config.deployments.get(deployment.name) === deployment;
    const source = defined ? deployment : config.rateLimits.undefinedDeployment;
    if (!source.tokensPerMinute && !source.requestsPerMinute) return undefined;
    return { tokensPerMinute: source.tokensPerMinute, requestsPerMinute: source.requestsPerMinute, tokenLimited: deployment.model.tokenLimited };
  };

  // The 429 is the answer load tests see most: its body depends only on these four values, so it
  // is serialised once per combination.
  const tooManyBodies = new Map<string, string>();
  function tooManyResponse(operation: Operation, apiVersion: string, admission: Admission, headers: Record<string, string>, client: string | undefined,
    deployment: string, startedAt: number, cost = 1): Response {
    const seconds = admission.headers['retry-after'];
    metrics.limits.record(admission.reason === 'tokens' ? cost : 1, attributes(deployment, 'reason', admission.reason));
    observeLatency(deployment, 429, startedAt);
    if (client) faultState.noteRetryAfter(client, Number(admission.headers['retry-after-ms']));
    const key = `${operation.operationId}|${apiVersion}|${admission.reason}|${seconds}`;
    let body = tooManyBodies.get(key);
    if (body === undefined) {
      body = JSON.stringify(rateLimited(operation.operationId, apiVersion, admission.reason!, Number(seconds)).body);
      if (tooManyBodies.size >= 1000) tooManyBodies.clear();
      tooManyBodies.set(key, body);
    }
    return new Response(body, { status: 429, headers: responseHeaders(headers, admission.headers, { 'content-type': 'application/json' }) });
  }

  /**
   * Everything decided without I/O (auth, api-version, deployment, a known-spent request window)
   * answers synchronously: hosts write a synchronous Response on their fastest path, and these
   * early answers (401, 404, 429) are the ones load tests see most.
   */
  function runOperation(request: Request, deploymentName: string, apiVersion: string | undefined,
    operation: Operation): Response | Promise<Response> {
    const headers = baseHeaders(request, config.region);
    try {
      if (isAuthorized(request)) return serveOperation(request, deploymentName, apiVersion, operation, headers, undefined);
      const attendee = authenticateAttendee(request);
      if (attendee instanceof Promise) {
        return attendee.then((a) => serveOperation(request, deploymentName, apiVersion, operation, headers, a),
          (err) => errorResponse(asAoaiError(err), headers));
      }
      return serveOperation(request, deploymentName, apiVersion, operation, headers, attendee);
    } catch (err) {
      return errorResponse(asAoaiError(err), headers);
    }
  }

  /** An attendee's event identity from their key (event code), or a 401 saying why. */
  function authenticateAttendee(request: Request): EventIdentity | Promise<EventIdentity> {
    const supplied = suppliedKey(request);
    const directory = eventDirectoryOf();
    if (!directory || !supplied) throw unauthorized();
    return directory.authenticate(supplied);
  }

  /** The event's daily cap: one request from a per-event counter for the UTC day, shared by instances. */
  async function chargeEventDay(attendee: EventIdentity): Promise<void> {
    const cap = attendee.event.dailyRequestCap;
    if (cap === undefined) return;
    const admission = await limiter.admit(`event:${attendee.event.code}`, [{ kind: 'requests', windowMs: DAY_MS, limit: cap, amount: 1 }]);
    if (!admission.admitted) throw dailyCapReached(cap, Math.max(1, Math.ceil((admission.retryAfterMs ?? 1000) / 1000)));
  }

  function serveOperation(request: Request, deploymentName: string, apiVersion: string | undefined, operation: Operation,
    headers: Headers, attendee: EventIdentity | undefined): Response | Promise<Response> {
    try {
      if (attendee?.event.deployments && !attendee.event.deployments.includes(deploymentName)) throw deploymentNotFound();
      // A transparent proxy: the real service judges api-version, deployment and limits.
      if (config.mode === 'record') return recordExchange(request, headers, attendee, operation);
      if (!apiVersion || !API_VERSION.test(apiVersion)) throw resourceNotFound();
      const deployment = resolveDeployment(deploymentName, operation.kind);
      headers['x-ms-deployment-name'] = deployment.name;
      if (!deployment.model.operations.includes(operation.kind)) {
        throw operationNotSupported(operation.aoaiName, deployment.model.name);
      }
      const faults = deployment.faults ?? config.faults;
      const client = faults?.enforceRetryAfter ? clientOf(request, deployment.name) : undefined;
      if (client) {
        const deadline = faultState.retryDeadline(client);
        if (deadline !== undefined) throw earlyRetry(deadline - Date.now());
      }
      const limits = faults?.ptu ? undefined : limitsOf(deployment);
      const early = limits && limiter.quickReject(deployment.name, limits);
      if (early) return tooManyResponse(operation, apiVersion, early, headers, client, deployment.name, early.now);
      const now = Date.now();
      return admitAndAnswer({ request, config, deployment, apiVersion, headers, now, startedAt: now }, operation, limits, faults, client, attendee);
    } catch (err) {
      return errorResponse(asAoaiError(err), headers);
    }
  }

  /** Generate mode generates; replay mode answers from the recording (found before any quota is used). */
  async function admitAndAnswer(ctx: RequestContext, operation: Operation, limits: DeploymentLimits | undefined,
    faults: FaultConfig | undefined, client: string | undefined, attendee?: EventIdentity): Promise<Response> {
    const startedAt = ctx.now;
    const name = ctx.deployment.name;
    let promptTokens: number | undefined;
    let release: (() => void) | undefined;
    try {
      let recorded: Interaction | undefined;
      const cap = attendee?.event.maxTokenCap;
      if (cap && (operation.kind === 'chat' || operation.kind === 'completions')) {
        ctx.body = capMaxTokens(await readBody(ctx.request, config.maxRequestBodyBytes), cap, config.events.maxTokens);
      }
      if (config.mode === 'replay') {
        ctx.body ??= await readBody(ctx.request, config.maxRequestBodyBytes);
        recorded = await recordings().findOrFail(ctx.request, uriPath(ctx.request.url), ctx.body);
      }
      if (attendee) await chargeEventDay(attendee);
      let parsed: unknown;
      let parsedOk = true;
      try {
        parsed = await operation.parse(ctx);
      } catch (err) {
        // Real AOAI accepted the recorded request; a check of ours must not refuse its replay.
        if (!recorded || !(err instanceof AoaiError)) throw err;
        parsedOk = false;
      }
      const cost = () => (parsedOk ? operation.cost(parsed, ctx) : recordedTokens(recorded!));
      promptTokens = parsedOk ? (parsed as { promptTokens?: number }).promptTokens : undefined;
      if (faults) {
        const injected = faultState.inject(ctx.deployment.name, faults);
        if (injected) throw injected;
        if (faults.ptu) {
          const ptu = faultState.ptuAdmit(ctx.deployment.name, faults.ptu, cost());
          if (ptu.rejection) throw ptu.rejection;
          ctx.headers['azure-openai-deployment-utilization'] = ptu.header;
        }
        if (faults.cutStreamRate) ctx.cutStream = (tokens) => faultState.cutStream(faults, tokens);
      }
      let charged: number | undefined;
      if (limits) {
        charged = cost();
        const dimensions = limiter.dimensions(limits, charged);
        const admission = await limiter.admit(name, dimensions);
        if (!admission.admitted) {
          if (promptTokens) metrics.tokensRequested.record(promptTokens, attributes(name, 'token_type', 'prompt'));
          return tooManyResponse(operation, ctx.apiVersion, admission, ctx.headers, client, name, startedAt, charged);
        }
        Object.assign(ctx.headers, admission.headers);
        ctx.now = admission.now;
      }
      if (recorded) {
        const response = await recordings().respond(recorded, ctx.headers, startedAt);
        observeLatency(name, response.status, startedAt);
        if (attendee) {
          const usage = recordedUsage(recorded);
          events!.count(attendee, usage.promptTokens, usage.completionTokens);
        }
        return response;
      }
      const answered = (status: number, baseAt: number) => {
        observeLatency(name, status, startedAt, Date.now(), baseAt);
        if (status >= 300) return;
        if (charged !== undefined) metrics.tokensRateLimit.record(charged, attributes(name, undefined));
        const usage = ctx.usage;
        if (attendee) events!.count(attendee, usage?.promptTokens ?? 0, usage?.completionTokens ?? 0);
        if (!usage) return;
        for (const [type, n] of [['prompt', usage.promptTokens], ['completion', usage.completionTokens]] as const) {
          if (n <= 0) continue;
          metrics.tokensUsed.record(n, attributes(name, 'token_type', type));
          metrics.tokensRequested.record(n, attributes(name, 'token_type', type));
        }
      };
      if (!config.latency.enabled) {
        const replaced = extensions.generators.get(operation);
        const response = await (replaced ? replaced(parsed, ctx) : operation.generate(parsed, ctx));
        answered(response.status, Date.now());
        return response;
      }
      const profile = startTiming(ctx, operation);
      release = ctx.timing!.done;
      // latency.full when the answer has been handed over in full (a paced stream's last token);
      // latency.base when it had been generated.
      ctx.timing!.done = () => {
        release!();
        answered(200, ctx.generatedAt ?? Date.now());
      };
      const replaced = extensions.generators.get(operation);
      const response = await (replaced ? replaced(parsed, ctx) : operation.generate(parsed, ctx));
      ctx.generatedAt ??= Date.now();
      return operation.latencyMs ? await answerAfter(ctx, operation.latencyMs(parsed, profile) * ctx.timing!.factor, () => response) : response;
    } catch (err) {
      const error = asAoaiError(err);
      release?.();
      observeLatency(name, error.status, startedAt);
      if (promptTokens) metrics.tokensRequested.record(promptTokens, attributes(name, 'token_type', 'prompt'));
      if (client && error.status === 429) faultState.noteRetryAfter(client, Number(error.headers['retry-after-ms'] ?? 1000));
      return errorResponse(error, ctx.headers);
    }
  }

  /** Requests in flight per deployment (this instance), for the PAYG-like slowdown. */
  const inFlight = new Map<string, number>();
  function startTiming(ctx: RequestContext, operation: Operation): LatencyProfile {
    const own = ctx.deployment.latency;
    const profile: LatencyProfile = Object.assign({}, globalProfile(config.latency, operation.kind,
      operation.operationId === 'Transcriptions_Create' ? 'transcriptions' : 'translations'), own);
    profile.slowdown = own?.slowdown ?? config.latency.slowdown;
    const name = ctx.deployment.name;
    const count = (inFlight.get(name) ?? 0) + 1;
    inFlight.set(name, count);
    let done = false;
    ctx.timing = {
      profile,
      factor: slowdownFactor(profile.slowdown, count),
      done: () => {
        if (done) return;
        done = true;
        const left = (inFlight.get(name) ?? 1) - 1;
        if (left > 0) inFlight.set(name, left);
        else inFlight.delete(name);
      },
    };
    return profile;
  }

  async function recordExchange(request: Request, headers: Headers, attendee?: EventIdentity, operation?: Operation): Promise<Response> {
    const startedAt = Date.now();
    try {
      let body = await readBody(request, config.maxRequestBodyBytes);
      const cap = attendee?.event.maxTokenCap;
      if (cap && (operation?.kind === 'chat' || operation?.kind === 'completions')) {
        const capped = capMaxTokens(body, cap, config.events.maxTokens);
        // What goes upstream is the clamped request (its length changes with it).
        if (capped !== body) {
          const requestHeaders = new Headers(request.headers);
          requestHeaders.delete('content-length');
          request = new Request(request.url, { method: request.method, headers: requestHeaders, body: capped as Uint8Array<ArrayBuffer> });
          body = capped;
        }
      }
      if (attendee) await chargeEventDay(attendee);
      return await recordings().record(request, uriPath(request.url), body, headers, startedAt,
        attendee && ((usage) => events!.count(attendee, usage.promptTokens, usage.completionTokens)));
    } catch (err) {
      return errorResponse(asAoaiError(err), headers);
    }
  }

  /** Record and replay serve every /openai/ route, not only the ones generate mode knows. */
  async function otherOpenAiRoute(request: Request): Promise<Response> {
    const headers = baseHeaders(request, config.region);
    const startedAt = Date.now();
    try {
      const attendee = isAuthorized(request) ? undefined : await authenticateAttendee(request);
      const deployment = /^\/openai\/deployments\/([^/]+)\//.exec(uriPath(request.url))?.[1];
      if (attendee?.event.deployments && (!deployment || !attendee.event.deployments.includes(deployment))) throw deploymentNotFound();
      if (config.mode === 'record') return await recordExchange(request, headers, attendee);
      if (attendee) await chargeEventDay(attendee);
      const body = await readBody(request, config.maxRequestBodyBytes);
      const recorded = await recordings().findOrFail(request, uriPath(request.url), body);
      return await recordings().respond(recorded, headers, startedAt);
    } catch (err) {
      return errorResponse(asAoaiError(err), headers);
    }
  }

  // ---- Live configuration (PATCH /++/config), shared through storage when there is some.
  const live = liveConfig(config, () => {
    deployments.clear();
    faultState.reset();
  });

  // ---- The extension, if any: it registers before the built-in routes, so its routes come first.
  let ready = Promise.resolve();
  if (config.extensionPath) {
    const extension = loadExtension(config.extensionPath);
    const api = createExtensionApi({
      config, registry: extensions, limiter,
      operations: new Map(OPERATION_ROUTES.map((r) => [r.name, r.operation!])),
      isAuthorized: (request, header) => (header ? keyChecker(config.apiKey, header)(request) : isAuthorized(request)),
    });
    let started: void | Promise<void>;
    try {
      started = extension.initialize(api);
    } catch (err) {
      throw new ExtensionError(`EXTENSION_PATH ${config.extensionPath}: initialize() failed: ${(err as Error).message}`);
    }
    if (started && typeof (started as Promise<void>).then === 'function') {
      ready = (started as Promise<void>).catch((err: Error) => {
        throw new ExtensionError(`EXTENSION_PATH ${config.extensionPath}: initialize() failed: ${err.message}`);
      });
    }
  }

  const app = new Hono({
    // Clients that join an endpoint ending in '/' with '/openai/...' send '//'; AOAI tolerates it.
    getPath: (req) => {
      const path = getPath(req);
      return path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
    },
  });
  for (const route of extensions.routes) {
    app.on(route.methods.map((m) => m.toUpperCase()), route.path, (c) => route.handler(c.req.raw, c.req.param() as Record<string, string>));
  }
  app.get(HEALTH_ROUTE.path, (c) =>
    jsonResponse(200, { message: '👋 aoai-api-simulator is running' }, baseHeaders(c.req.raw, config.region)));
  app.get(IMAGE_FILE_ROUTE.path, (c) =>
    serveImage(c.req.param('size') ?? '', c.req.param('file') ?? '', baseHeaders(c.req.raw, config.region)));
  registerAdminRoutes(app, {
    config, live, metrics, events: eventDirectoryOf, isAuthorized,
    recordings: () => recordings(),
    fail: (err, headers) => errorResponse(asAoaiError(err), headers),
  });
  for (const route of OPERATION_ROUTES) {
    app.on(route.methods, route.path, (c) =>
      runOperation(c.req.raw, c.req.param('deployment')!, c.req.query('api-version'), route.operation!));
    // Other methods only: a second handler matching POST would put every request through Hono's
    // middleware chain instead of its direct single-handler call.
    const others = ['GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].filter((m) => !route.methods.includes(m as Method));
    app.on(others, route.path, () => { throw methodNotAllowed(); });
  }
  app.notFound((c) => {
    if (config.mode !== 'generate' && (uriPath(c.req.url).startsWith('/openai/') || extensions.forwarders.length)) return otherOpenAiRoute(c.req.raw);
    return errorResponse(resourceNotFound(), baseHeaders(c.req.raw, config.region));
  });
  app.onError((err, c) => errorResponse(asAoaiError(err), baseHeaders(c.req.raw, config.region)));

  return {
    fetch: (request) => app.fetch(request),
    ready,
    config,
    async close() {
      limiter.stop();
      await events?.close();
      live.stop();
      await recordReplay?.close();
    },
  };
}

function asAoaiError(err: unknown): AoaiError {
  if (err instanceof AoaiError) return err;
  log.error(`unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  return internalError();
}

/**
 * Who a client is, for strict retry-after: `x-client-id` when the client names itself, else its
 * key (clients sharing a key share a deadline).
 */
function clientOf(request: Request, deployment: string): string {
  const id = request.headers.get('x-client-id') ?? request.headers.get('api-key') ?? request.headers.get('authorization') ?? '';
  return `${deployment}\u0000${id}`;
}

/**
 * Accepts the key as `api-key` or `Authorization: Bearer`. The comparison runs in constant time
 * for a key of the right length; a wrong length is refused at once (revealing only the length,
 * as Python's compare_digest does).
 */
/** The key a client sent: `api-key`, else `Authorization: Bearer`. */
function suppliedKey(request: Request, header = 'api-key'): string | null {
  const supplied = request.headers.get(header);
  if (supplied !== null || header !== 'api-key') return supplied;
  const authorization = request.headers.get('authorization');
  return authorization?.toLowerCase().startsWith('bearer ') ? authorization.slice(7).trim() : null;
}

function keyChecker(apiKey: string, header = 'api-key'): (request: Request) => boolean {
  const expected = Buffer.from(apiKey, 'utf8');
  return (request) => {
    const supplied = suppliedKey(request, header);
    if (supplied === null) return false;
    const bytes = Buffer.from(supplied, 'utf8');
    return bytes.length === expected.length && timingSafeEqual(bytes, expected);
  };
}

/**
 * Configured deployments as they are; others (when allowed) get a model inferred from the name
 * (a deployment called "gpt-4o" serves gpt-4o) or else the route's default model. Inferred
 * deployments have no limits, as in the Python simulator.
 */
function deploymentResolver(config: SimulatorConfig): { resolve(name: string, kind: OperationKind): Deployment; clear(): void } {
  const inferred = new Map<string, Deployment>();
  const resolve = (name: string, kind: OperationKind): Deployment => {
    const configured = config.deployments.get(name);
    if (configured) return configured;
    if (!config.allowUndefinedDeployments) throw deploymentNotFound();
    const key = `${kind}\u0000${name}`;
    let deployment = inferred.get(key);
    if (!deployment) {
      const named = findModel(name);
      const model = named?.operations.includes(kind) ? named : findModel(ROUTE_DEFAULT_MODEL[kind])!;
      deployment = { name, model };
      if (inferred.size >= MAX_INFERRED_DEPLOYMENTS) inferred.clear();
      inferred.set(key, deployment);
    }
    return deployment;
  };
  return { resolve, clear: () => inferred.clear() };
}
