// The load-test kit: the Azure Load Testing plans agree with the scenarios and are well formed,
// the Locust plan runs (smoke, on loopback, where Debian's locust is installed: .ci/run installs
// it), the JMeter plan runs on Debian's JMeter 2.13 (smoke, loopback), and the local runner judges
// short runs of the two latency scenarios.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JMETER_DIR, jmeterAvailable, runJMeter } from '../loadtest/jmeter';
import YAML from 'yaml';
import { histogram, runScenario } from '../loadtest/run';
import { SCENARIOS } from '../loadtest/scenarios';
import { deploymentsFile, KEY, startSimulator } from './helpers';

const AZURE = join(__dirname, '..', 'loadtest', 'azure');
// Azure Load Testing's failure-criterion grammar: [request: ]aggregate(metric) condition value.
const CRITERION =
  /^(?:[\w.-]+: )?(?:avg|min|max|p50|p75|p90|p95|p96|p97|p98|p99|p999|p9999|percentage|count)\((?:response_time_ms|latency|error|requests_per_sec|requests)\) [<>] \d+(?:\.\d+)?$/;
const LOCUST = '/usr/bin/locust';

describe('Azure Load Testing plans', () => {
  for (const scenario of Object.values(SCENARIOS)) {
    it(`${scenario.name}: config.yaml is well formed and matches the scenario`, () => {
      const file = join(AZURE, scenario.name, 'config.yaml');
      const config = YAML.parse(readFileSync(file, 'utf8'));
      expect(config.version).toBe('v0.1');
      expect(config.testId).toMatch(/^[a-z0-9_-]{2,50}$/);
      expect(config.testType).toBe('Locust');
      expect(existsSync(join(dirname(file), config.testPlan))).toBe(true);
      expect(config.failureCriteria.length).toBeGreaterThan(0);
      for (const criterion of config.failureCriteria) expect(criterion).toMatch(CRITERION);
      const env = Object.fromEntries(config.env.map((e: { name: string; value: string }) => [e.name, e.value]));
      expect(env).toMatchObject({ DEPLOYMENT: scenario.deployment, MAX_TOKENS: String(scenario.maxTokens), LOCUST_USERS: String(scenario.users) });
      expect(Object.keys(scenario.deployments)).toContain(env.DEPLOYMENT);
      expect(config.secrets.map((s: { name: string }) => s.name)).toEqual(['SIMULATOR_API_KEY']);
    });
  }

  it.skipIf(!existsSync(LOCUST))(
    'the Locust plan runs against the simulator (smoke, 4 s, loopback)',
    async () => {
      const sim = await startSimulator({ OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile(SCENARIOS['base-latency'].deployments) });
      const out = mkdtempSync(join(tmpdir(), 'aoai-locust-'));
      try {
        const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
          execFile(
            LOCUST,
            [
              '-f',
              join(AZURE, 'locustfile.py'),
              '--headless',
              '-u',
              '2',
              '-r',
              '2',
              '-t',
              '4s',
              '--host',
              sim.url,
              '--csv',
              join(out, 'run'),
              '--only-summary',
            ],
            {
              env: { ...process.env, SIMULATOR_API_KEY: KEY, DEPLOYMENT: 'gpt-35-turbo-unlimited', MAX_TOKENS: '20', PATH: '/usr/bin:/bin' },
              timeout: 60000,
            },
            (err, _stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
          );
        });
        expect(run.code, run.stderr.slice(-2000)).toBe(0);
        const stats = readFileSync(join(out, 'run_stats.csv'), 'utf8').split('\n');
        const header = stats[0].split(',');
        const chat = stats.find((line) => line.split(',')[1] === 'chat')!.split(',');
        expect(Number(chat[header.indexOf('Request Count')])).toBeGreaterThan(10);
        expect(Number(chat[header.indexOf('Failure Count')])).toBe(0);
      } finally {
        await sim.close();
      }
    },
    90_000,
  );
});

describe('the JMeter plans for Azure Load Testing', () => {
  const properties = (scenario: string) =>
    Object.fromEntries(
      readFileSync(join(JMETER_DIR, scenario, 'user.properties'), 'utf8')
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  for (const scenario of Object.values(SCENARIOS)) {
    it(`${scenario.name}: config.yaml and user.properties are well formed and match the scenario and its Locust config`, () => {
      const config = YAML.parse(readFileSync(join(JMETER_DIR, scenario.name, 'config.yaml'), 'utf8'));
      const locust = YAML.parse(readFileSync(join(AZURE, scenario.name, 'config.yaml'), 'utf8'));
      expect(config).toMatchObject({ version: 'v0.1', testType: 'JMX', properties: { userPropertyFile: 'user.properties' } });
      expect(config.testId).toMatch(/^[a-z0-9_-]{2,50}$/);
      expect(existsSync(join(JMETER_DIR, scenario.name, config.testPlan))).toBe(true);
      expect(config.failureCriteria).toEqual(locust.failureCriteria);
      for (const criterion of config.failureCriteria) expect(criterion).toMatch(CRITERION);
      expect(config.secrets).toEqual(locust.secrets);
      expect(properties(scenario.name)).toMatchObject({
        deployment: scenario.deployment,
        max_tokens: String(scenario.maxTokens),
        users: String(scenario.users),
      });
      // The plan reads every property the files set, and the secret the config names.
      const plan = readFileSync(join(JMETER_DIR, 'loadtest.jmx'), 'utf8');
      for (const name of Object.keys(properties(scenario.name))) expect(plan).toContain(`\${__P(${name},`);
      expect(plan).toContain(`__GetSecret(${config.secrets[0].name})`);
    });
  }

  it.skipIf(!jmeterAvailable() && !process.env.CI)(
    "runs on Debian's JMeter 2.13 against the simulator (smoke, 4 s, loopback): every sample a 200",
    async () => {
      expect(jmeterAvailable(), "Debian's jmeter and a JDK (javac) are needed: .ci/run installs them").toBe(true);
      const sim = await startSimulator({ OPENAI_DEPLOYMENT_CONFIG_PATH: deploymentsFile(SCENARIOS['base-latency'].deployments) });
      const out = mkdtempSync(join(tmpdir(), 'aoai-jmeter-'));
      try {
        const url = new URL(sim.url);
        const run = await runJMeter(
          'base-latency',
          { protocol: 'http', host: url.hostname, port: url.port, api_key: KEY, users: '2', ramp_seconds: '1', duration_seconds: '4', max_tokens: '20' },
          join(out, 'results.csv'),
          120000,
        );
        expect(run.code, run.output.slice(-2000)).toBe(0);
        expect(run.samples.length).toBeGreaterThan(10);
        expect(run.samples.filter((s) => s.responseCode !== '200' || !s.success)).toEqual([]);
      } finally {
        await sim.close();
      }
    },
    180_000,
  );
});

describe('npm run loadtest', () => {
  it('passes a short base-latency run, with a histogram of what it saw', async () => {
    const { passed, result, report } = await runScenario(SCENARIOS['base-latency'], { seconds: 3, quiet: true });
    expect(result.status['200']).toBeGreaterThan(100);
    expect(result.server?.baseLatencyMean).toBeDefined();
    expect(passed, report).toBe(true);
    expect(report).toMatch(/base latency \(mean, server-side\)\s+[\d.]+ ms\s+<= 10 ms\s+PASS/);
  }, 60_000);

  it('passes a short added-latency run: mean full latency 900-1100 ms', async () => {
    const { passed, result, report } = await runScenario(SCENARIOS['added-latency'], { seconds: 5, quiet: true });
    expect(passed, report).toBe(true);
    expect(result.server!.fullLatencyMean! * 1000).toBeGreaterThan(900);
  }, 60_000);

  it('draws latencies into buckets', () => {
    const text = histogram([0.5, 0.7, 3, 3, 3, 1500]);
    expect(text).toMatch(/0-1 ms \| #+\s+2/);
    expect(text).toMatch(/2-5 ms \| #{50} 3/);
    expect(text).toMatch(/1000-2000 ms \| #+\s+1/);
  });
});
