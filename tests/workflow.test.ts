// The GitHub Actions load-test workflow, checked offline: it parses, its scenarios are the
// release scenarios, each action it uses exists with the inputs it passes (as the actions'
// action.yml files declare them), and its rewrite step really points each plan at the simulator
// and the Key Vault secret (run here with bash on a copy of the plans).

import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../loadtest/scenarios';

const ROOT = join(__dirname, '..');
const workflow = YAML.parse(readFileSync(join(ROOT, '.github', 'workflows', 'load-test.yml'), 'utf8'));

// Inputs as the actions declare them (action.yml of Azure/login v2, Azure/load-testing v1,
// actions/checkout v4 and actions/upload-artifact v4); the required ones first.
const ACTIONS: Record<string, { required: string[]; optional: string[] }> = {
  'actions/checkout@v4': { required: [], optional: ['repository', 'ref', 'token', 'path', 'fetch-depth', 'submodules', 'lfs'] },
  'azure/login@v2': {
    required: [],
    optional: ['creds', 'client-id', 'tenant-id', 'subscription-id', 'enable-AzPSSession', 'environment', 'allow-no-subscriptions', 'audience', 'auth-type'],
  },
  'azure/load-testing@v1': {
    required: ['loadtestConfigFile', 'loadtestResource', 'resourceGroup'],
    optional: ['secrets', 'env', 'overrideParameters', 'outputVariableName', 'loadtestRunName', 'loadtestRunDescription'],
  },
  'actions/upload-artifact@v4': { required: ['path'], optional: ['name', 'if-no-files-found', 'retention-days', 'compression-level', 'overwrite'] },
};

const steps = workflow.jobs['load-test'].steps as { name?: string; uses?: string; with?: Record<string, string>; run?: string; env?: Record<string, string> }[];

describe('the load-test workflow', () => {
  it('is dispatched by hand with the four release scenarios and both plans, and may ask for an OIDC token', () => {
    const inputs = workflow.on.workflow_dispatch.inputs;
    expect(inputs.scenario.options).toEqual(Object.keys(SCENARIOS));
    expect(inputs.plan.options).toEqual(['jmeter', 'locust']);
    expect(workflow.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
  });

  it('uses only actions that exist, with inputs they declare (the required ones given)', () => {
    const used = steps.filter((s) => s.uses);
    expect(used.map((s) => s.uses)).toEqual(Object.keys(ACTIONS));
    for (const step of used) {
      const declared = ACTIONS[step.uses!];
      for (const name of Object.keys(step.with ?? {})) expect([...declared.required, ...declared.optional], `${step.uses} input ${name}`).toContain(name);
      for (const name of declared.required) expect(Object.keys(step.with ?? {}), `${step.uses} needs ${name}`).toContain(name);
    }
    // Expressions refer to what a workflow has: inputs, secrets, vars, env, github.
    const text = readFileSync(join(ROOT, '.github', 'workflows', 'load-test.yml'), 'utf8');
    for (const [, expr] of text.matchAll(/\$\{\{\s*([^}]*?)\s*\}\}/g)) {
      for (const [ref] of expr.matchAll(/\b(inputs|secrets|vars|env|github)\.[A-Za-z_]+/g)) expect(ref).toMatch(/^(inputs|secrets|vars|env|github)\./);
      expect(expr.replace(/'[^']*'/g, '')).not.toMatch(/\b(?!inputs|secrets|vars|env|github|format)[a-z]+\.[a-z]/i);
    }
  });

  for (const plan of ['jmeter', 'locust']) {
    for (const scenario of Object.keys(SCENARIOS)) {
      it(`${plan} ${scenario}: the rewrite step points the plan at the simulator and the Key Vault secret`, () => {
        const dir = mkdtempSync(join(tmpdir(), 'aoai-workflow-'));
        cpSync(join(ROOT, 'loadtest'), join(dir, 'loadtest'), { recursive: true });
        const config = plan === 'jmeter' ? `loadtest/azure/jmeter/${scenario}/config.yaml` : `loadtest/azure/${scenario}/config.yaml`;
        const rewrite = steps.find((s) => s.run)!;
        const secretUri = 'https://vault-x.vault.azure.net/secrets/sim-key';
        execFileSync('bash', ['-euo', 'pipefail', '-c', rewrite.run!], {
          cwd: dir,
          env: { PATH: process.env.PATH, CONFIG: config, SIMULATOR_HOST: 'func-x.azurewebsites.net', SECRET_URI: secretUri },
        });
        const parsed = YAML.parse(readFileSync(join(dir, config), 'utf8'));
        expect(parsed.secrets).toEqual([{ name: 'SIMULATOR_API_KEY', value: secretUri }]);
        if (plan === 'jmeter') {
          expect(readFileSync(join(dir, 'loadtest/azure/jmeter', scenario, 'user.properties'), 'utf8')).toMatch(/^host=func-x\.azurewebsites\.net$/m);
        } else {
          expect(parsed.env.find((e: { name: string }) => e.name === 'LOCUST_HOST').value).toBe('https://func-x.azurewebsites.net');
        }
        // The config the action is given is the one the expression names.
        const expression = workflow.jobs['load-test'].env.CONFIG as string;
        expect(expression).toContain(plan === 'jmeter' ? 'loadtest/azure/jmeter/{0}/config.yaml' : 'loadtest/azure/{0}/config.yaml');
      });
    }
  }
});
