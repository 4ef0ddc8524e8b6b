// The Azure Functions host: one HTTP function per route of the shared table, each a thin adapter
// from HttpRequest to the core's Web-standard fetch handler.

import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { ALL_ROUTES, ConfigError, createSimulator, loadConfig, type Simulator } from '../src';

app.setup({ enableHttpStream: true });

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

export async function handle(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let sim: Simulator;
  try {
    sim = getSimulator();
    await sim.ready;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    context.error(`Configuration error: ${err.message}`);
    return { status: 500, jsonBody: { error: { code: 'SimulatorConfigurationError', message: err.message } } };
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const response = await sim.fetch(
    new Request(request.url, {
      method: request.method,
      headers: request.headers,
      body: hasBody ? await request.arrayBuffer() : undefined,
    }),
  );
  return { status: response.status, headers: Object.fromEntries(response.headers), body: response.body ?? undefined };
}

// Graceful shutdown (scale-in, redeploy): recordings not yet written are saved.
app.hook.appTerminate(async () => {
  await simulator?.close();
});

for (const route of ALL_ROUTES) {
  app.http(route.name, { methods: route.methods, route: route.functionsRoute, authLevel: 'anonymous', handler: handle });
}
