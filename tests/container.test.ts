// The container files, checked offline (no Docker engine runs here): the Dockerfile's
// instructions parse, every COPY from the build context exists, the image runs what `npm start`
// runs without its build step, as a non-root user with a health check on GET /; the compose
// file runs three replicas on one Azurite with settings the code reads.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const root = join(__dirname, '..');
const INSTRUCTIONS = new Set(['FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'EXPOSE', 'HEALTHCHECK', 'CMD', 'ARG', 'LABEL', 'ENTRYPOINT']);

/** Instructions with continuation lines joined, comments and blank lines dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const joined = text.replace(/\\\n\s*/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op, args: rest.join(' ') };
    });
}

describe('Dockerfile', () => {
  const steps = instructions(readFileSync(join(root, 'Dockerfile'), 'utf8'));

  it('parses: known instructions, two stages, the runtime stage non-root with a health check', () => {
    for (const s of steps) expect(INSTRUCTIONS, s.op).toContain(s.op);
    const stages = steps.filter((s) => s.op === 'FROM');
    expect(stages).toHaveLength(2);
    const runtime = steps.slice(steps.indexOf(stages[1]));
    expect(runtime.find((s) => s.op === 'USER')?.args).toBe('node');
    const health = runtime.find((s) => s.op === 'HEALTHCHECK')!;
    expect(health.args).toContain("'/'");
    expect(JSON.parse(health.args.slice(health.args.indexOf('['))).slice(0, 2)).toEqual(['node', '-e']);
  });

  it('copies only what exists in the build context, and nothing .dockerignore leaves out', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').filter(Boolean);
    const copies = steps.filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'));
    expect(copies.length).toBeGreaterThan(3);
    for (const copy of copies) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expect(existsSync(join(root, source)), source).toBe(true);
        expect(ignored).not.toContain(source.replace(/\/$/, ''));
      }
    }
  });

  it('runs what npm start runs, after its build step', () => {
    const cmd = JSON.parse(steps.filter((s) => s.op === 'CMD').at(-1)!.args) as string[];
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(cmd.join(' ')).toBe(pkg.scripts.start);
    expect(steps.find((s) => s.op === 'RUN' && s.args.includes('npm run build'))).toBeDefined();
  });
});

describe('compose.yaml', () => {
  const compose = YAML.parse(readFileSync(join(root, 'compose.yaml'), 'utf8'), { merge: true });

  it('three simulator replicas on one Azurite, each on its own port, sharing its storage', () => {
    const simulators = Object.entries(compose.services).filter(([name]) => name.startsWith('simulator-')) as [string, any][];
    expect(simulators).toHaveLength(3);
    const ports = simulators.map(([, s]) => s.ports[0]);
    expect(new Set(ports).size).toBe(3);
    for (const [, s] of simulators) {
      expect(s.build).toBe('.');
      expect(s.depends_on).toContain('azurite');
      expect(s.environment.AZURE_STORAGE_CONNECTION_STRING).toMatch(/TableEndpoint=http:\/\/azurite:10002\//);
      expect(s.environment.AZURE_STORAGE_CONNECTION_STRING).toMatch(/BlobEndpoint=http:\/\/azurite:10000\//);
      // Every setting is one the simulator reads.
      for (const name of Object.keys(s.environment)) expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`\`${name}\``);
    }
    expect(compose.services.azurite.image).toMatch(/azurite/);
  });
});
