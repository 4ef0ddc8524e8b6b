// Stage: which deployment answers, with what model, limits and faults. Configured deployments
// as they are; others (when allowed) get a model inferred from the name.

import { findModel, ROUTE_DEFAULT_MODEL, type OperationKind } from '../catalogue';
import type { Deployment, SimulatorConfig } from '../config';
import { deploymentNotFound, invalidType, missingParameter, operationNotSupported, resourceNotFound, responsesApiVersion } from '../errors';
import { decodeUtf8, readBody } from '../http';
import type { DeploymentLimits } from '../limits/limiter';
import { DEPLOYMENT_NAME } from '../modes/record-replay';
import type { ApiVersionRule } from '../routes';
import { parseJsonObject } from '../validate';
import { allowAttendee } from './authenticate';
import type { DeploymentResolver, Exchange, Next, Services, Stage } from './exchange';

// AOAI api-versions: 2024-10-21, 2025-04-01-preview, ...
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
const MAX_INFERRED_DEPLOYMENTS = 1000;

/**
 * Configured deployments as they are; others (when allowed) get a model inferred from the name
 * (a deployment called "gpt-4o" serves gpt-4o) or else the route's default model. Inferred
 * deployments have no limits, as in the Python simulator.
 */
export function deploymentResolver(config: SimulatorConfig): DeploymentResolver {
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

/** A deployment's windows: its own when configured, else those for undefined deployments. */
export function limitsOf(config: SimulatorConfig, deployment: Deployment): DeploymentLimits | undefined {
  const defined = config.deployments.get(deployment.name) === deployment;
  const source = defined ? deployment : config.rateLimits.undefinedDeployment;
  if (!source.tokensPerMinute && !source.requestsPerMinute) return undefined;
  return { tokensPerMinute: source.tokensPerMinute, requestsPerMinute: source.requestsPerMinute, tokenLimited: deployment.model.tokenLimited };
}

/** The versions that are not dates: the v1 API's, which AOAI also takes on classic routes (inferred). */
const VERSIONLESS = new Set(['v1', 'preview', 'latest']);
/** The first api-version of the Responses API. */
const RESPONSES_SINCE = '2025-03-01';

/** A route's api-version rule, applied: AOAI's 404 for a missing or unknown one, its 400 for a too-old one. */
export function checkApiVersion(rule: ApiVersionRule | undefined, version: string): void {
  if (rule === 'optional' && !version) return;
  if (!version || !(API_VERSION.test(version) || VERSIONLESS.has(version))) throw resourceNotFound();
  if (rule === 'responses' && API_VERSION.test(version) && version.slice(0, 10) < RESPONSES_SINCE) throw responsesApiVersion();
}

export function resolve({ config, deployments }: Services): Stage {
  return (x, next) => {
    const operation = x.operation!;
    checkApiVersion(x.route?.apiVersions ?? 'classic', x.apiVersion);
    // A name AOAI could not have (a control character, a slash, 65 characters...) is a
    // deployment that does not exist; it never reaches a header or a file name.
    if (!DEPLOYMENT_NAME.test(x.deploymentName!)) throw deploymentNotFound();
    const deployment = deployments.resolve(x.deploymentName!, operation.kind);
    x.headers['x-ms-deployment-name'] = deployment.name;
    if (!deployment.model.operations.includes(operation.kind)) throw operationNotSupported(operation.aoaiName, deployment.model.name);
    x.deployment = deployment;
    x.faults = deployment.faults ?? config.faults;
    x.limits = x.faults?.ptu ? undefined : limitsOf(config, deployment);
    return next(x);
  };
}

/** Stage: on the v1 routes (and /openai/responses) the deployment is the body's `model` (a form field for audio). */
export function nameFromBody({ config }: Services): Stage {
  const read = async (x: Exchange, next: Next) => {
    const body = (x.body ??= await readBody(x.request, config.maxRequestBodyBytes));
    const type = x.request.headers.get('content-type') ?? '';
    let model: unknown;
    if (type.toLowerCase().startsWith('multipart/form-data')) {
      const form = await new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': type } }).formData().catch(() => undefined);
      model = form?.get('model');
    } else {
      model = parseJsonObject(decodeUtf8(body)).model;
    }
    if (model === undefined || model === null || model === '') throw missingParameter('model');
    if (typeof model !== 'string') throw invalidType('model', 'a string', model);
    x.deploymentName = model;
    allowAttendee(x);
    return next(x);
  };
  return (x, next) => (x.route?.deploymentFrom === 'body' ? read(x, next) : next(x));
}
