// The Azure Functions host: one HTTP function per route of the shared table, each a thin adapter
// from HttpRequest to the core's Web-standard fetch handler.

import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { ALL_ROUTES, asAoaiError, ConfigError, createSimulator, loadConfig, neverFailingBody, type Simulator } from '../src';

app.setup({ enableHttpStream: true });

const TERMINATE_BUDGET_MS = 4000;

let simulator: Simulator | undefined;

function getSimulator(): Simulator {
  if (!simulator) {
    const config = loadConfig();
    // Every instance must accept the same key; a generated one would differ per instance.
    if (config.apiKeyGenerated) throw new ConfigError('SIMULATOR_API_KEY must be set when running as Azure Functions.');
    simulator = createSimulator(config);
  }
  return simulator;
}

/**
 * Every way out is an answer: with HTTP streaming on, the library sends the proxied response only
 * when the handler returns (a throw leaves the host waiting out its proxy timeout), and it gives
 * up on a body that errors mid-way; so errors become AOAI-shaped answers, and bodies never fail.
 */
export async function handle(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const sim = getSimulator();
    await sim.ready;
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
    // The body is handed over as a stream: a 401, 429 or 413 is answered without reading it.
    const response = await sim.fetch(
      new Request(request.url, { method: request.method, headers: request.headers, body: hasBody ? request.body : undefined, duplex: 'half' } as RequestInit),
    );
    const headers = Object.fromEntries(response.headers);
    return { status: response.status, headers, body: response.body ? neverFailingBody(response.body, headers['content-type'] ?? '') : undefined };
  } catch (err) {
    if (err instanceof ConfigError) {
      context.error(`Configuration error: ${err.message}`);
      return { status: 500, jsonBody: { error: { code: 'SimulatorConfigurationError', message: err.message } } };
    }
    const error = asAoaiError(err);
    return { status: error.status, headers: error.headers, jsonBody: error.body };
  }
}

// Graceful shutdown (scale-in, redeploy): recordings not yet written are saved.
// The host gives appTerminate 5 s (WorkerTerminateGracePeriodInSeconds), then kills: what is not
// saved by 4 s stays unsaved (recordings autosave as they go; leases expire with their window).
app.hook.appTerminate(async () => {
  if (!simulator) return;
  await Promise.race([simulator.close(), new Promise((resolve) => setTimeout(resolve, TERMINATE_BUDGET_MS).unref())]);
});

for (const route of ALL_ROUTES) {
  app.http(route.name, { methods: route.methods, route: route.functionsRoute, authLevel: 'anonymous', handler: handle });
}
