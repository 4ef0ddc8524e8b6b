// Graceful shutdown of the standalone server: take in what the kernel has already accepted, stop
// accepting, answer what has arrived, let answers in flight finish for up to the grace period,
// end paced streams still sending with AOAI's error event, then close what is left. Resolves as
// soon as no connection remains.

import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';

/** How long after the listener closes connections that have sent nothing are taken as idle. */
const ARRIVAL_MS = 500;
// The listener closes once no connection has come for QUIET_MS (at most MAX_DRAIN_MS after the
// signal): connections the kernel had already accepted, still in its backlog, are taken and
// answered rather than reset when the listening socket closes.
const QUIET_MS = 50;
const MAX_DRAIN_MS = 1000;

export function closeGracefully(http: Server, graceMs: number, cutStreams: () => void): Promise<void> {
  // Answers from now on close their connection; prepended so it runs before the app writes.
  http.prependListener('request', (_req, res) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  });
  let lastArrival = Date.now();
  const arrived = () => {
    lastArrival = Date.now();
  };
  http.on('connection', arrived);
  const drained = new Promise<void>((resolve) => {
    const started = Date.now();
    const check = () => {
      const now = Date.now();
      if (now - lastArrival >= QUIET_MS || now - started >= MAX_DRAIN_MS) resolve();
      else setTimeout(check, QUIET_MS).unref();
    };
    setTimeout(check, QUIET_MS).unref();
  });
  const graceEnds = Date.now() + graceMs;
  return drained.then(() => stopAccepting(http, graceEnds, cutStreams, arrived));
}

function stopAccepting(http: Server, graceEnds: number, cutStreams: () => void, arrived: () => void): Promise<void> {
  http.off('connection', arrived);
  return new Promise((done) => {
    // net's close, not http's: http's also drops connections accepted whose request has not been
    // read yet (a burst that arrived just before the signal).
    NetServer.prototype.close.call(http, () => done());
    const idle = setTimeout(() => http.closeIdleConnections(), ARRIVAL_MS);
    const sweep = setInterval(() => http.closeIdleConnections(), ARRIVAL_MS);
    const cut = setTimeout(
      () => {
        cutStreams();
        // The error events go out before the sockets are closed.
        setTimeout(() => http.closeAllConnections(), 100).unref();
      },
      Math.max(0, graceEnds - Date.now()),
    );
    for (const timer of [idle, sweep, cut]) timer.unref();
  });
}
