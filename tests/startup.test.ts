// The standalone process as a user runs it (`npm start` runs dist/server/index.js): startup
// errors, the generated key, graceful shutdown.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../src/config';

const SERVER = join(__dirname, '..', 'dist', 'server', 'index.js');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built server; `until` decides when to send SIGTERM (after it has printed enough). */
function runServer(env: Record<string, string>, until?: (stdout: string) => boolean): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env } });
    let stdout = '',
      stderr = '',
      signalled = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!signalled && until?.(stdout)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function deploymentFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'aoai-sim-')), 'deployments.json');
  writeFileSync(file, content);
  return file;
}

describe('startup', () => {
  it('prints a generated key once when none is set, serves, and exits cleanly on SIGTERM', async () => {
    const env = { ...process.env } as Record<string, string>;
    delete env.SIMULATOR_API_KEY;
    const run = await runServer({ ...env, SIMULATOR_API_KEY: '' }, (out) => out.includes('listening on'));
    expect(run.code).toBe(0);
    const keyLines = run.stdout.split('\n').filter((l) => l.includes('generated key'));
    expect(keyLines).toHaveLength(1);
    expect(keyLines[0]).toMatch(/: [A-Za-z0-9]{30}$/);
    expect(run.stdout).toContain('SIGTERM received');
  });

  it('does not print a configured key', async () => {
    const run = await runServer({ SIMULATOR_API_KEY: 'my-secret-key-123' }, (out) => out.includes('listening on'));
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('my-secret-key-123');
  });

  it('fails clearly on an unknown model in the deployment file', async () => {
    const run = await runServer({ SIMULATOR_API_KEY: 'k', OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentFile('{"d1":{"model":"gpt-99"}}') });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Configuration error: deployment 'd1' in .*: unknown model 'gpt-99'\. Known models: .*gpt-4o/);
  });

  it('fails clearly on a malformed file, a bad flag, or record/replay settings that cannot work', async () => {
    const bad = await runServer({ SIMULATOR_API_KEY: 'k', OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentFile('{nope') });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not valid JSON');
    expect(() => loadConfig({ ALLOW_UNDEFINED_OPENAI_DEPLOYMENTS: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ SIMULATOR_MODE: 'playback' })).toThrow(/SIMULATOR_MODE must be one of generate, record, replay/);
    expect(() => loadConfig({ SIMULATOR_MODE: 'record' })).toThrow(/set AZURE_OPENAI_ENDPOINT/);
    expect(() => loadConfig({ SIMULATOR_MODE: 'record', AZURE_OPENAI_ENDPOINT: 'a.openai.azure.com' })).toThrow(/is not a URL/);
    expect(() => loadConfig({ AZURE_OPENAI_ENDPOINT: 'https://a, https://b', AZURE_OPENAI_KEY: '1,2,3' })).toThrow(/one per endpoint/);
    expect(() => loadConfig({ AZURE_OPENAI_ENDPOINT: 'https://a;weight=0' })).toThrow(/weight/);
    expect(() => loadConfig({ RECORDING_CONTAINER: 'Bad_Name' })).toThrow(/RECORDING_CONTAINER/);
    const ok = loadConfig({ AZURE_OPENAI_ENDPOINT: 'https://a.example/;weight=2, https://b.example;key=kb', AZURE_OPENAI_KEY: 'ka,x' });
    expect(ok.forward.backends).toEqual([
      { url: 'https://a.example', weight: 2, key: 'ka' },
      { url: 'https://b.example', weight: 1, key: 'kb' },
    ]);
    expect(loadConfig({ RECORDING_AUTO_SAVE: 'false' }).recording.autosave).toBe(false);
    expect(() => loadConfig({ OPENAI_DEPLOYMENT_CONFIG_PATH: '/does/not/exist.json' })).toThrow(/cannot read/);
    expect(() => loadConfig({ OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentFile('{"d":{"model":"gpt-4o","tokensPerMinute":-5}}') })).toThrow(
      /non-negative integer/,
    );
  });

  it('loads the Python simulator deployment format, model aliases included', () => {
    const file = deploymentFile(
      JSON.stringify({
        deployment1: { model: 'text-embedding-ada-002', tokensPerMinute: 10000, embeddingSize: 1536 },
        'gpt-35-turbo-1m-token': { model: 'gpt-3.5-turbo', tokensPerMinute: '1000000' },
        whisper10k: { model: 'whisper', requestsPerMinute: 10000 },
      }),
    );
    const config = loadConfig({ OPENAI_DEPLOYMENT_CONFIG_PATH: file });
    expect([...config.deployments.keys()]).toEqual(['deployment1', 'gpt-35-turbo-1m-token', 'whisper10k']);
    expect(config.deployments.get('gpt-35-turbo-1m-token')).toMatchObject({ tokensPerMinute: 1000000, model: { name: 'gpt-35-turbo' } });
    expect(config.deployments.get('whisper10k')!.requestsPerMinute).toBe(10000);
  });
});
