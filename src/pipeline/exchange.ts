// What one request carries through the pipeline's stages, the services they share, and how
// stages compose (Hono-style: each gets the exchange and the rest of the pipeline).

import type { OperationKind } from '../catalogue';
import type { Deployment, SimulatorConfig } from '../config';
import type { EventDirectory, EventIdentity } from '../events/directory';
import type { Generator } from '../extensions';
import type { FaultConfig, FaultState } from '../faults';
import type { Headers } from '../http';
import type { DeploymentLimits, Limiter } from '../limits/limiter';
import type { RecordReplay } from '../modes/record-replay';
import type { Interaction } from '../modes/recordings/format';
import type { Operation, RequestContext } from '../operations/operation';
import type { ResponseStore } from '../operations/responses/store';
import type { RouteDefinition } from '../routes';
import type { SimulatorMetrics } from '../telemetry/metrics';

/**
 * One request on its way through. Operations see it as their RequestContext; `deployment` is
 * set by the resolve stage, before any stage that hands the exchange to an operation.
 */
export interface Exchange extends RequestContext {
  /** The route of the table; undefined on the other /openai/ paths record and replay serve. */
  route?: RouteDefinition;
  /** The route's operation (model calls only). */
  operation?: Operation;
  /** The route's path parameters (a stored resource's id). */
  params?: Record<string, string>;
  /** As the client named it (the path segment, decoded). */
  deploymentName?: string;
  attendee?: EventIdentity;
  limits?: DeploymentLimits;
  faults?: FaultConfig;
  /** Who the client is, for strict retry-after (only when the deployment enforces it). */
  client?: string;
  /** Replay: the recording that answers. */
  recorded?: Interaction;
  /** The body was changed (an event's token cap): what goes upstream is `body`. */
  bodyChanged?: boolean;
  parsed?: unknown;
  /** Parsed without an AOAI refusal (replay tolerates requests our checks refuse). */
  parsedOk?: boolean;
  /** Tokens charged to the deployment's windows. */
  charged?: number;
  /** Told how the request ended (set by the observe stage, for what follows it). */
  observer?: Observer;
  /** The observer has been told of the answer (it is told once). */
  observed?: boolean;
}

/** What the observe stage records: an answer handed over in full, or a refusal on the way. */
export interface Observer {
  answered(x: Exchange, status: number, generatedAt: number): void;
  refused(x: Exchange, err: unknown): void;
}

export type Next = (x: Exchange) => Response | Promise<Response>;
export type Stage = (x: Exchange, next: Next) => Response | Promise<Response>;

/** The stages in order, then the answer: built once, so a request costs one call per stage. */
export function compose(stages: readonly Stage[], answer: Next): Next {
  return stages.reduceRight<Next>((next, stage) => (x) => stage(x, next), answer);
}

/** Runs `then` on a value or a promise of one, staying synchronous when it can. */
export function settle<T, R>(value: T | Promise<T>, then: (v: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}

/** Prompt tokens of the parsed request, where the operation counts them. */
export const promptTokensOf = (x: Exchange): number | undefined => (x.parsedOk ? (x.parsed as { promptTokens?: number } | undefined)?.promptTokens : undefined);

export interface DeploymentResolver {
  resolve(name: string, kind: OperationKind): Deployment;
  /** Forgets inferred deployments (the configuration changed). */
  clear(): void;
}

/** What the stages share; built once by the composition root (src/simulator.ts). */
export interface Services {
  config: SimulatorConfig;
  limiter: Limiter;
  faults: FaultState;
  metrics: SimulatorMetrics;
  deployments: DeploymentResolver;
  /** The event directory, or undefined without storage (started on first use). */
  events(): EventDirectory | undefined;
  /** Record/replay over the recording store (started on first use). */
  recordings(): RecordReplay;
  /** Generators an extension replaced. */
  generators: ReadonlyMap<Operation, Generator>;
  /** Stored responses (the Responses API). */
  responses: ResponseStore;
  isAuthorized(request: Request): boolean;
}

/** A new exchange for a request that has just arrived. */
export function arrive(
  request: Request,
  headers: Headers,
  services: Services,
  route: RouteDefinition | undefined,
  deploymentName: string | undefined,
  apiVersion: string | undefined,
): Exchange {
  const now = Date.now();
  return {
    request,
    config: services.config,
    responses: services.responses,
    headers,
    route,
    operation: route?.operation,
    deploymentName,
    apiVersion: apiVersion ?? '',
    now,
    startedAt: now,
    deployment: undefined as unknown as Deployment,
    // Every field a stage may set, set here: each exchange has one shape from its arrival
    // (the engine then sees a single hidden class instead of a chain of transitions).
    params: undefined,
    attendee: undefined,
    limits: undefined,
    faults: undefined,
    client: undefined,
    body: undefined,
    bodyChanged: undefined,
    recorded: undefined,
    parsed: undefined,
    parsedOk: undefined,
    charged: undefined,
    observer: undefined,
    observed: undefined,
    timing: undefined,
    usage: undefined,
    cutStream: undefined,
    generatedAt: undefined,
  };
}
