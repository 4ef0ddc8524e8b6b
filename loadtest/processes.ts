// Simulator processes on loopback, as the benchmark and the multi-instance tests run them:
// `node dist/server/index.js` with PORT=0, its URL read from the line it prints when ready.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ServerProcess {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The project root: the nearest folder up with a package.json (from source or from dist/). */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const SERVER_SCRIPT = join(projectRoot(), 'dist', 'server', 'index.js');

export function startProcess(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const onExit = (code: number | null) => reject(new Error(`server exited early (${code}): ${out}`));
    child.once('exit', onExit);
    child.stdout!.on('data', (d) => {
      out += d;
      const match = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (match && !out.includes('\u0000resolved')) {
        out += '\u0000resolved';
        child.off('exit', onExit);
        resolve({
          url: match[1].replace('localhost', '127.0.0.1'),
          process: child,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

/** The built standalone simulator (run `npm run build` first). */
export function startSimulatorProcess(env: Record<string, string>): Promise<ServerProcess> {
  const script = process.env.SIMULATOR_SCRIPT ?? SERVER_SCRIPT;
  return startProcess([script], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warning', ...env });
}

/** A deployment config file (the Python simulator's format) in a fresh temp folder. */
export function deploymentsFile(deployments: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'aoai-deployments-')), 'deployments.json');
  writeFileSync(file, JSON.stringify(deployments));
  return file;
}
