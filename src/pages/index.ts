// The pages the app serves itself, with no build step for users: the workshop playground, the
// organisers' dashboard and the chart library the dashboard draws with (uPlot, from node_modules).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import { DASHBOARD_ROUTE, PAGE_ASSET_ROUTE, PLAYGROUND_ROUTE } from '../routes';
import { DASHBOARD_PAGE } from './dashboard';
import { PLAYGROUND_PAGE } from './playground';

const ASSETS: Record<string, string> = {
  'uPlot.iife.min.js': 'text/javascript; charset=utf-8',
  'uPlot.min.css': 'text/css; charset=utf-8',
};
const assetCache = new Map<string, string>();

function asset(file: string): string {
  let text = assetCache.get(file);
  if (text === undefined) {
    const dist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
    assetCache.set(file, (text = readFileSync(join(dist, file), 'utf8')));
  }
  return text;
}

const page = (html: string) =>
  new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' } });

export function registerPageRoutes(app: Hono): void {
  app.get(PLAYGROUND_ROUTE.path, () => page(PLAYGROUND_PAGE));
  app.get(DASHBOARD_ROUTE.path, () => page(DASHBOARD_PAGE));
  app.get(PAGE_ASSET_ROUTE.path, (c) => {
    const file = c.req.param('file') ?? '';
    const type = ASSETS[file];
    if (!type) return c.json({ error: { code: '404', message: 'Resource not found' } }, 404);
    return new Response(asset(file), { headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' } });
  });
}
