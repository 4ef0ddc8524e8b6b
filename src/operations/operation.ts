// The contract of one AOAI operation module (src/operations/*.ts). The pipeline authenticates,
// checks api-version and resolves the deployment; the module parses and validates its request,
// then generates the response. `parse` and `generate` are separate so admission control (rate
// limits) can sit between them without any generation work done for a rejected request.

import type { OperationKind } from '../catalogue';
import type { Deployment, SimulatorConfig } from '../config';
import type { AoaiError } from '../errors';
import { readBody, type Headers } from '../http';
import type { LatencyProfile } from '../pacing/latency';
import type { ResponseStore } from './responses/store';

/** What every handler of a request sees: a model call's operation, or a stored resource's handler. */
export interface ResourceContext {
  request: Request;
  config: SimulatorConfig;
  /** '' when none was sent (the v1 API). */
  apiVersion: string;
  /** Response headers for this request (ids, region, deployment name, rate limits). */
  headers: Headers;
  /** Stored responses (the Responses API), shared by instances when storage is configured. */
  responses: ResponseStore;
}

/** A stored resource's handler (GET /responses/{id}, the models list...): `params` from its route. */
export type ResourceHandler = (ctx: ResourceContext, params: Record<string, string>) => Response | Promise<Response>;

export interface RequestContext extends ResourceContext {
  deployment: Deployment;
  /** When the request was admitted (epoch ms): responses' `created` comes from it. */
  now: number;
  /** When the request arrived (epoch ms): simulated latency counts from here. */
  startedAt: number;
  /** The body, when the pipeline has already read it (replay mode hashes it first). */
  body?: Uint8Array;
  /** When the answer had been generated, before any simulated wait (for metrics). */
  generatedAt?: number;
  /** Tokens of the answer, set by operations that count them (for metrics). */
  usage?: { promptTokens: number; completionTokens: number };
  /** Fault injection: for a stream of `tokens` token steps, after how many to cut it (undefined: not cut). */
  cutStream?: (tokens: number) => number | undefined;
  /** Simulated latency for this request; absent when latency is off. */
  timing?: {
    profile: LatencyProfile;
    /** Slowdown multiplier from the deployment's load when the request was admitted. */
    factor: number;
    /** Called when the answer has been handed over in full (ends the request's in-flight count). */
    done: () => void;
  };
}

/** The request body, read once: operations call this rather than reading the request. */
export function requestBody(ctx: RequestContext, limit: number, tooLarge?: (size: number) => AoaiError): Promise<Uint8Array> {
  return ctx.body ? Promise.resolve(ctx.body) : readBody(ctx.request, limit, tooLarge);
}

export interface Operation<Req = unknown> {
  /** The model capability this operation needs. */
  kind: OperationKind;
  /** AOAI's name in OperationNotSupported messages, e.g. `chatCompletion`. */
  aoaiName: string;
  /** AOAI's operation id, e.g. `ChatCompletions_Create` (used in 429 messages). */
  operationId: string;
  parse(ctx: RequestContext): Promise<Req>;
  /** Admission cost in tokens under the configured cost model (0 for requests-only operations). */
  cost(req: Req, ctx: RequestContext): number;
  generate(req: Req, ctx: RequestContext): Response | Promise<Response>;
  /**
   * Time the answer takes, for operations not paced by tokens (embeddings, audio, images): the
   * pipeline holds the response until then. Chat and completions pace themselves.
   */
  latencyMs?(req: Req, profile: LatencyProfile): number;
}
