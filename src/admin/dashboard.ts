// GET /++/dashboard/data: what the dashboard page shows beside this instance's metrics: each
// deployment's use of its current windows (the whole app's, from the shared counters when
// storage is configured), the recording files and the events' usage.

import type { Deployment, SimulatorConfig } from '../config';
import type { EventDirectory } from '../events/directory';
import type { WindowUsage } from '../limits/limiter';
import type { RecordReplay } from '../modes/record-replay';

export interface DashboardDeps {
  config: SimulatorConfig;
  /** A deployment's current windows (none when it is not limited). */
  windowUsage(deployment: Deployment): Promise<WindowUsage[]>;
  events(): EventDirectory | undefined;
  recordings(): RecordReplay;
}

// Past this many deployments, the rest are not read (each costs a storage read per window).
const MAX_DEPLOYMENTS = 50;

/** A part that failed is reported in place: the rest of the dashboard still shows. */
async function part<T>(work: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await work();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export async function dashboardData(deps: DashboardDeps): Promise<Record<string, unknown>> {
  const { config } = deps;
  const deployments = [...config.deployments.values()].slice(0, MAX_DEPLOYMENTS);
  const [usage, recordings, events] = await Promise.all([
    Promise.all(deployments.map((d) => part(() => deps.windowUsage(d)))),
    config.mode === 'generate' ? Promise.resolve(null) : part(() => deps.recordings().files()),
    deps.events() ? part(() => deps.events()!.usage()) : Promise.resolve(null),
  ]);
  return {
    at: new Date().toISOString(),
    mode: config.mode,
    sharedCounters: Boolean(config.storage),
    deployments: deployments.map((d, i) => ({
      name: d.name,
      model: d.model.name,
      tokensPerMinute: d.tokensPerMinute ?? null,
      requestsPerMinute: d.requestsPerMinute ?? null,
      windows: usage[i],
    })),
    recordings,
    events,
  };
}
