// Worker thread entry (content/long-counts.ts starts it): counts the tokens of long texts off the
// event loop, with the same merge and ranks as the main thread.

import { parentPort } from 'node:worker_threads';
import type { Encoding } from '../catalogue';
import { countTokens } from './tokens';

parentPort?.on('message', ({ id, text, encoding, limit }: { id: number; text: string; encoding: Encoding; limit: number }) => {
  parentPort!.postMessage({ id, tokens: countTokens(text, encoding, limit) });
});
