// Runs the JMeter plan (loadtest/azure/jmeter/loadtest.jmx) on Debian's JMeter 2.13, through the
// small launcher that lets it load plans (loadtest/debian-jmeter/AllowingDriver.java, compiled
// once with the JDK's javac). `npm run jmeter -- <scenario> --endpoint URL --key KEY [--duration s]`.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './processes';

export const JMETER_HOME = process.env.JMETER_HOME ?? '/usr/share/jmeter';
const ROOT = projectRoot();
export const JMETER_DIR = join(ROOT, 'loadtest', 'azure', 'jmeter');
const LAUNCHER = join(ROOT, 'loadtest', 'debian-jmeter', 'AllowingDriver.java');
const CLASSPATH = [`${JMETER_HOME}/bin/ApacheJMeter.jar`, `${JMETER_HOME}/lib/*`, `${JMETER_HOME}/lib/ext/*`].join(':');

const run = (command: string, args: string[], timeoutMs: number) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });

export const jmeterAvailable = () => existsSync(`${JMETER_HOME}/bin/ApacheJMeter.jar`) && existsSync('/usr/bin/javac');

/** Compiles the launcher into a cache folder (once). */
async function launcher(): Promise<string> {
  const dir = join(tmpdir(), 'aoai-sim-jmeter-launcher');
  if (existsSync(join(dir, 'AllowingDriver.class'))) return dir;
  mkdirSync(dir, { recursive: true });
  const compiled = await run('javac', ['-cp', CLASSPATH, '-d', dir, LAUNCHER], 120000);
  if (compiled.code !== 0) throw new Error(`javac failed: ${compiled.output}`);
  return dir;
}

export interface JMeterRun {
  code: number;
  output: string;
  /** The results file's rows (timeStamp, elapsed, label, responseCode, ..., success). */
  samples: { elapsed: number; responseCode: string; success: boolean }[];
}

/** Runs the plan with a scenario's user.properties, `properties` overriding them (-J). */
export async function runJMeter(scenario: string, properties: Record<string, string>, results: string, timeoutMs = 600000): Promise<JMeterRun> {
  const classes = await launcher();
  const args = ['-cp', `${CLASSPATH}:${classes}`, `-Djmeter.home=${JMETER_HOME}`, 'AllowingDriver', '-n'];
  args.push('-t', join(JMETER_DIR, 'loadtest.jmx'), '-q', join(JMETER_DIR, scenario, 'user.properties'), '-l', results, '-j', `${results}.log`);
  args.push('-Jjmeter.save.saveservice.output_format=csv', '-Jjmeter.save.saveservice.print_field_names=true');
  for (const [name, value] of Object.entries(properties)) args.push(`-J${name}=${value}`);
  const { code, output } = await run('java', args, timeoutMs);
  const rows = existsSync(results) ? readFileSync(results, 'utf8').trim().split('\n') : [];
  const header = (rows.shift() ?? '').split(',');
  const at = (name: string) => header.indexOf(name);
  const samples = rows.map((line) => {
    const cells = line.split(',');
    return { elapsed: Number(cells[at('elapsed')]), responseCode: cells[at('responseCode')], success: cells[at('success')] === 'true' };
  });
  return { code, output, samples };
}

async function main(): Promise<void> {
  const [scenario, ...rest] = process.argv.slice(2);
  const option = (name: string) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const endpoint = option('endpoint');
  if (!scenario || !endpoint || !existsSync(join(JMETER_DIR, scenario))) {
    console.error('usage: npm run jmeter -- <base-latency|added-latency|request-limits|token-limits> --endpoint URL --key KEY [--duration s]');
    process.exit(2);
  }
  const url = new URL(endpoint);
  const results = join(tmpdir(), `aoai-sim-jmeter-${scenario}-${Date.now()}.csv`);
  const props: Record<string, string> = {
    protocol: url.protocol.replace(':', ''),
    host: url.hostname,
    port: url.port || (url.protocol === 'https:' ? '443' : '80'),
  };
  if (option('key')) props.api_key = option('key')!;
  if (option('duration')) props.duration_seconds = option('duration')!;
  const { code, output, samples } = await runJMeter(scenario, props, results);
  console.log(output.trim());
  const byCode = new Map<string, number>();
  for (const s of samples) byCode.set(s.responseCode, (byCode.get(s.responseCode) ?? 0) + 1);
  const elapsed = samples.map((s) => s.elapsed).sort((a, b) => a - b);
  console.log(
    `${samples.length} samples; status codes ${JSON.stringify(Object.fromEntries(byCode))}; p50 ${elapsed[Math.floor(elapsed.length / 2)] ?? '-'} ms, p95 ${elapsed[Math.floor(elapsed.length * 0.95)] ?? '-'} ms; results in ${results}`,
  );
  process.exit(code);
}

if (require.main === module) void main();
