// Public surface of the core, used by the hosts (server/, functions/) and by extensions later.
export { createSimulator, type Simulator } from './simulator';
export { ConfigError, loadConfig, type Deployment, type SimulatorConfig } from './config';
export { ALL_ROUTES, OPERATION_ROUTES, type RouteDefinition } from './routes';
export { warmEncoders } from './content/tokens';
export { cutLiveStreams } from './pacing/stream';
export { asAoaiError } from './errors';
export { neverFailingBody } from './http';
