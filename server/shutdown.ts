// Graceful shutdown of the standalone server: stop accepting, answer what has arrived, let
// answers in flight finish for up to the grace period, end paced streams still sending with
// AOAI's error event, then close what is left. Resolves as soon as no connection remains.

import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';

/** How long after the listener closes connections that have sent nothing are taken as idle. */
const ARRIVAL_MS = 500;

export function closeGracefully(http: Server, graceMs: number, cutStreams: () => void): Promise<void> {
  // Answers from now on close their connection; prepended so it runs before the app writes.
  http.prependListener('request', (_req, res) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  });
  return new Promise((done) => {
    // net's close, not http's: http's also drops connections accepted whose request has not been
    // read yet (a burst that arrived just before the signal).
    NetServer.prototype.close.call(http, () => done());
    const idle = setTimeout(() => http.closeIdleConnections(), ARRIVAL_MS);
    const sweep = setInterval(() => http.closeIdleConnections(), ARRIVAL_MS);
    const cut = setTimeout(() => {
      cutStreams();
      // The error events go out before the sockets are closed.
      setTimeout(() => http.closeAllConnections(), 100).unref();
    }, graceMs);
    for (const timer of [idle, sweep, cut]) timer.unref();
  });
}
