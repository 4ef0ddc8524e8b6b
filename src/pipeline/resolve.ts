// Stage: which deployment answers, with what model, limits and faults. Configured deployments
// as they are; others (when allowed) get a model inferred from the name.

import { findModel, ROUTE_DEFAULT_MODEL, type OperationKind } from '../catalogue';
import type { Deployment, SimulatorConfig } from '../config';
import { deploymentNotFound, operationNotSupported, resourceNotFound } from '../errors';
import type { DeploymentLimits } from '../limits/limiter';
import type { DeploymentResolver, Services, Stage } from './exchange';

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

export function resolve({ config, deployments }: Services): Stage {
  return (x, next) => {
    const operation = x.operation!;
    if (!x.apiVersion || !API_VERSION.test(x.apiVersion)) throw resourceNotFound();
    const deployment = deployments.resolve(x.deploymentName!, operation.kind);
    x.headers['x-ms-deployment-name'] = deployment.name;
    if (!deployment.model.operations.includes(operation.kind)) throw operationNotSupported(operation.aoaiName, deployment.model.name);
    x.deployment = deployment;
    x.faults = deployment.faults ?? config.faults;
    x.limits = x.faults?.ptu ? undefined : limitsOf(config, deployment);
    return next(x);
  };
}
