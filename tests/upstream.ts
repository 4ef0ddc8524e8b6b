// A fake Azure OpenAI on loopback for record-mode tests: JSON and paced SSE chat answers,
// embeddings, multipart audio, and switchable failures (429, 500, slow). It keeps what it
// received so tests can check what the simulator forwarded.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Failure = { status: 429 | 500 | 503 | 400; retryAfter?: number } | { delayMs: number } | undefined;

export interface FakeUpstream {
  url: string;
  received: Received[];
  /** How every following request is answered (undefined: normally). */
  fail(failure: Failure): void;
  close(): Promise<void>;
}

/** Gap between streamed events: replay must reproduce it. */
export const EVENT_GAP_MS = 80;

export async function startUpstream(name = 'upstream'): Promise<FakeUpstream> {
  const received: Received[] = [];
  let failure: Failure;
  let counter = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const common = { 'apim-request-id': `${name}-${++counter}`, 'x-ms-region': 'Sweden Central', 'x-ratelimit-remaining-tokens': '999' };
      if (failure && 'delayMs' in failure) await new Promise((r) => setTimeout(r, failure && 'delayMs' in failure ? failure.delayMs : 0));
      else if (failure) {
        const headers: Record<string, string> = { ...common, 'content-type': 'application/json' };
        if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
        res.writeHead(failure.status, headers);
        res.end(JSON.stringify({ error: { code: String(failure.status), message: `${name} says ${failure.status}` } }));
        return;
      }
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/openai/models') {
        res.writeHead(200, { ...common, 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o', object: 'model', owner: name }] }));
        return;
      }
      if (path.endsWith('/audio/translations') || path.endsWith('/audio/transcriptions')) {
        res.writeHead(200, { ...common, 'content-type': 'application/json' });
        res.end(JSON.stringify({ text: `${name} heard ${body.length} bytes` }));
        return;
      }
      let request: Record<string, unknown> = {};
      try {
        request = JSON.parse(body.toString('utf8'));
      } catch {
        /* not JSON */
      }
      if (path.endsWith('/embeddings')) {
        res.writeHead(200, { ...common, 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            model: 'text-embedding-ada-002',
            data: [{ object: 'embedding', index: 0, embedding: [0.25, -0.5, counter / 1000] }],
            usage: { prompt_tokens: 3, total_tokens: 3 },
          }),
        );
        return;
      }
      if (path.endsWith('/chat/completions') || path.endsWith('/completions')) {
        const messages = (request.messages as { content: string }[] | undefined) ?? [];
        const prompt = messages.at(-1)?.content ?? String(request.prompt ?? '');
        const words = `${name} answer ${counter} to ${prompt}`.split(' ');
        const id = `chatcmpl-${name}-${counter}`;
        if (request.stream) {
          res.writeHead(200, { ...common, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
          const event = (delta: object, finish: string | null) =>
            `data: ${JSON.stringify({
              id,
              object: 'chat.completion.chunk',
              created: 1700000000,
              model: 'gpt-4o',
              choices: [{ index: 0, delta, finish_reason: finish }],
            })}\n\n`;
          res.write(event({ role: 'assistant', content: '' }, null));
          for (const [i, word] of words.entries()) {
            await new Promise((r) => setTimeout(r, EVENT_GAP_MS));
            res.write(event({ content: (i ? ' ' : '') + word }, null));
          }
          res.write(event({}, 'stop'));
          res.end('data: [DONE]\n\n');
          return;
        }
        res.writeHead(200, { ...common, 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id,
            object: 'chat.completion',
            created: 1700000000,
            model: 'gpt-4o',
            choices: [{ index: 0, message: { role: 'assistant', content: words.join(' ') }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 10, completion_tokens: words.length, total_tokens: 10 + words.length },
          }),
        );
        return;
      }
      res.writeHead(404, { ...common, 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: '404', message: 'Resource not found' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    fail: (f) => {
      failure = f;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
