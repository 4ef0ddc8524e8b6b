// Replaces the built-in chat generator with a fixed short answer (finish_reason "stop"). Auth,
// validation, rate limits, latency and streaming stay the simulator's.
// Run: npm run build && EXTENSION_PATH=dist/examples/replace-chat npm start

import type { ExtensionApi } from '../../src/extensions';

const ANSWER = 'This is a canned answer from the replace-chat extension.';

export function initialize(api: ExtensionApi): void {
  api.replaceGenerator('chatCompletions', (request, ctx) => api.helpers.chatCompletion(request, ctx, ANSWER, 'stop'));
}
