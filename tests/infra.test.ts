// The infrastructure, checked offline as text (no Bicep compiler can be installed here):
// parameters declared and used, the parameters file and azd config agree with them, the
// resources the app relies on exist, and every setting the code reads is set by the template.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadConfig } from '../src/config';

const root = join(__dirname, '..');
const bicep = readFileSync(join(root, 'infra', 'main.bicep'), 'utf8');
// Comments and string literals stripped (keeping their \${...} interpolations), so references
// are only counted in code.
const code = bicep
  .replace(/\/\/.*$/gm, '')
  .replace(/'(?:[^'\\]|\\.)*'/g, (literal) => [...literal.matchAll(/\$\{([^}]*)\}/g)].map((m) => ` ${m[1]} `).join('') || "''");

const declared = (keyword: 'param' | 'var' | 'resource' | 'output') =>
  [...bicep.matchAll(new RegExp(`^${keyword} ([A-Za-z_][A-Za-z0-9_]*)`, 'gm'))].map((m) => m[1]);

/** The keys of `var <name> = { ... }` (one key per line). */
function objectKeys(name: string): string[] {
  const start = bicep.indexOf(`var ${name} = {`);
  expect(start, `var ${name}`).toBeGreaterThan(-1);
  const body = bicep.slice(start, bicep.indexOf('\n}', start));
  return [...body.matchAll(/^ {2}([A-Za-z_][A-Za-z0-9_]*):/gm)].map((m) => m[1]);
}

describe('infra/main.bicep', () => {
  it('uses every parameter and variable it declares, and declares every one it uses', () => {
    const names = [...declared('param'), ...declared('var'), ...declared('resource')];
    for (const name of [...declared('param'), ...declared('var')]) {
      const uses = code.match(new RegExp(`\\b${name}\\b`, 'g'))?.length ?? 0;
      expect(uses, `${name} is declared but never used`).toBeGreaterThan(1);
    }
    // Identifiers used with member access or as values must be declared (or be Bicep built-ins).
    const builtIns = new Set([
      'resourceGroup',
      'subscription',
      'environment',
      'uniqueString',
      'toLower',
      'union',
      'items',
      'guid',
      'subscriptionResourceId',
      'empty',
      'setting',
      'name',
      'true',
      'false',
    ]);
    for (const m of code.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)|:\s*([a-z][A-Za-z0-9_]*)(?=[.\n[(])/g)) {
      const id = m[1] ?? m[2];
      if (!builtIns.has(id)) expect(names, `${id} is used but not declared`).toContain(id);
    }
  });

  it('has the resources the app relies on', () => {
    expect(bicep).toMatch(/'Microsoft\.Web\/serverfarms@[\d-]+'[\s\S]*?tier: 'FlexConsumption'[\s\S]*?name: 'FC1'/);
    expect(bicep).toMatch(/'Microsoft\.Web\/sites@[\d-]+'[\s\S]*?kind: 'functionapp,linux'/);
    expect(bicep).toMatch(/runtime: \{\s*name: 'node'\s*version: nodeVersion/);
    expect(bicep).toMatch(/@allowed\(\['22', '24'\]\)\s*@description\([\s\S]*?\)\s*param nodeVersion string = '22'/);
    expect(bicep).toMatch(/'Microsoft\.Storage\/storageAccounts\/blobServices\/containers@[\d-]+'[\s\S]*?name: recordingsContainerName/);
    expect(bicep).toContain("var recordingsContainerName = 'recordings'");
    expect(bicep).toContain("var tableNames = ['ratelimits', 'simulatorconfig', 'events', 'eventusage']");
    expect(bicep).toMatch(/'Microsoft\.Insights\/components@[\d-]+'/);
    expect(bicep).toMatch(/@secure\(\)\s*@description\([\s\S]*?\)\s*param simulatorApiKey string/);
    expect(bicep).toMatch(/@secure\(\)\s*@description\([\s\S]*?\)\s*param azureOpenAiKey string/);
    expect(declared('output')).toEqual(expect.arrayContaining(['SIMULATOR_ENDPOINT', 'AZURE_STORAGE_ACCOUNT_NAME']));
  });

  it('sets every variable the simulator reads (and no unknown one)', () => {
    const settings = new Set([...objectKeys('simulatorSettings'), ...objectKeys('hostSettings')]);
    // Observe what loadConfig reads: once with nothing set, once with the settings that make it
    // read the ones that depend on them (a TTFT mean makes it read the TTFT std dev, ...).
    const read = new Set<string>();
    const observe = (values: Record<string, string>) =>
      loadConfig(
        new Proxy(values, {
          get(target, key: string) {
            read.add(key);
            return target[key];
          },
        }),
      );
    observe({});
    observe({
      LATENCY_OPENAI_CHAT_COMPLETIONS_TTFT_MEAN: '1',
      LATENCY_OPENAI_COMPLETIONS_TTFT_MEAN: '1',
      LATENCY_SLOWDOWN_CONCURRENCY: '2',
      RECORDING_AUTOSAVE: 'true',
    });
    // And what is read from process.env directly, outside loadConfig.
    const sources = ['src', 'server', 'functions'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(join(root, dir, f), 'utf8')),
    );
    for (const source of sources) for (const m of source.matchAll(/(?:process\.env|\benv)\.([A-Z][A-Z0-9_]+)/g)) read.add(m[1]);

    const notForFunctions: Record<string, string> = {
      PORT: 'standalone server only',
      HOST: 'standalone server only',
      SERVER_HEADERS_TIMEOUT_SECONDS: 'standalone server only',
      SHUTDOWN_GRACE_SECONDS: 'standalone server only (the Functions host gives 5 s)',
      SERVER_REQUEST_TIMEOUT_SECONDS: 'standalone server only',
      SERVER_KEEP_ALIVE_TIMEOUT_SECONDS: 'standalone server only',
      RECORDING_AUTO_SAVE: "the Python infra's misspelling, read only when RECORDING_AUTOSAVE is empty",
      AZURE_STORAGE_CONNECTION_STRING: 'keyless: the identity-based AzureWebJobsStorage__* settings instead',
      AzureWebJobsStorage: 'keyless: the identity-based AzureWebJobsStorage__* settings instead',
      AzureWebJobsStorage__accountName: 'the service URIs are set instead',
    };
    const missing = [...read].filter((name) => !settings.has(name) && !(name in notForFunctions));
    expect(missing, 'read by the code but not set by infra/main.bicep').toEqual([]);
    const unknown = [...settings].filter(
      (name) => !read.has(name) && !['AzureWebJobsDisableHomepage', 'OTEL_SERVICE_NAME', 'AzureWebJobsStorage__queueServiceUri'].includes(name),
    );
    expect(unknown, 'set by infra/main.bicep but never read').toEqual([]);
  });

  it('is keyless: no shared keys, identity-based storage and telemetry, the roles they need, secrets in Key Vault', () => {
    expect(bicep).not.toContain('listKeys');
    expect(bicep).toContain('allowSharedKeyAccess: false');
    expect(bicep).toContain('DisableLocalAuth: true');
    // A user-assigned identity, made before the app (the app depends on its role assignments).
    expect(bicep).toMatch(/resource identity 'Microsoft\.ManagedIdentity\/userAssignedIdentities@/);
    expect(bicep).toMatch(/identity: \{ type: 'UserAssigned'/);
    expect(bicep).toMatch(/dependsOn: \[[^\]]*\broles\b[^\]]*\btelemetryPublisher\b[^\]]*\bsecretsReader\b/);
    const host = objectKeys('hostSettings');
    for (const name of ['blobServiceUri', 'queueServiceUri', 'tableServiceUri', 'credential', 'clientId'])
      expect(host).toContain(`AzureWebJobsStorage__${name}`);
    expect(host).not.toContain('AzureWebJobsStorage');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Bicep interpolation, matched as text
    expect(bicep).toContain("APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'");
    // Blob Data Owner, Table Data Contributor, Queue Data Contributor; Monitoring Metrics Publisher; Key Vault Secrets User.
    for (const role of [
      'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      '3913510d-42f4-4e42-8a64-420c390055eb',
      '4633458b-17de-408a-b874-0445c86b69e6',
    ]) {
      expect(bicep).toContain(`'${role}'`);
    }
    // No secret as a plain app setting: Key Vault references, resolved with the identity.
    expect(bicep).toMatch(/SIMULATOR_API_KEY: apiKeyReference/);
    expect(bicep).toMatch(/AZURE_OPENAI_KEY: upstreamKeyReference/);
    expect(bicep).toContain('keyVaultReferenceIdentity: identity.id');
    // Flex regions only; a concurrency for a workload that waits on timers; always-ready as an option.
    expect(bicep).toMatch(/@allowed\(\[\s*'australiaeast'[\s\S]*?'westus3'\s*\]\)\s*@description\('[^']*'\)\s*param location string/);
    expect(bicep).toMatch(/perInstanceConcurrency: perInstanceConcurrency/);
    expect(bicep).toMatch(/alwaysReady: alwaysReadyInstances > 0/);
  });

  it('has a parameters file that names only declared parameters, and covers those without defaults', () => {
    const file = JSON.parse(readFileSync(join(root, 'infra', 'main.parameters.json'), 'utf8'));
    const params = declared('param');
    for (const name of Object.keys(file.parameters)) expect(params).toContain(name);
    const required = [...bicep.matchAll(/^param ([A-Za-z0-9_]+) [a-z]+$/gm)].map((m) => m[1]);
    for (const name of required) expect(Object.keys(file.parameters), `${name} has no default`).toContain(name);
  });

  it('is what azure.yaml deploys, as a Functions app', () => {
    const azd = YAML.parse(readFileSync(join(root, 'azure.yaml'), 'utf8'));
    expect(azd.infra).toMatchObject({ provider: 'bicep', path: 'infra', module: 'main' });
    expect(azd.services.api).toMatchObject({ project: '.', host: 'function' });
    // The service tag azd finds the app by.
    expect(bicep).toContain("'azd-service-name': 'api'");
  });

  it('deploys the built app without node_modules; Azure installs the production dependencies', () => {
    const azd = YAML.parse(readFileSync(join(root, 'azure.yaml'), 'utf8'));
    expect(azd.services.api.remoteBuild).toBe(true);
    const ignored = readFileSync(join(root, '.funcignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules/', 'tests/', 'loadtest/', '*.js.map', 'local.settings.json']) expect(ignored).toContain(entry);
    // What Azure would install: no Functions host download (three hosts, hundreds of MB) among it.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect({ ...pkg.dependencies, ...pkg.optionalDependencies }).not.toHaveProperty('azure-functions-core-tools');
    expect(pkg.main).toBe('dist/functions/index.js');
  });
});
