// Metrics with the Python simulator's names, units and attributes, so existing dashboards and
// load-test queries keep working: six histograms. Recording is on the hot path (several per
// request), so histograms are aggregated here, in plain counters keyed by reused attribute
// objects, and handed to OpenTelemetry as a MetricProducer when a reader collects: Prometheus
// text at GET /++/metrics (cumulative), and Application Insights through the Azure Monitor
// distro when APPLICATIONINSIGHTS_CONNECTION_STRING is set (delta, as its exporter asks).

import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type CollectionResult,
  type HistogramMetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { log } from '../log';

// OpenTelemetry's default explicit bucket boundaries.
const BOUNDARIES = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

interface Series {
  attributes: Attributes;
  count: number;
  sum: number;
  min: number;
  max: number;
  counts: number[];
  /** What the delta reader last exported, and the extremes since. */
  exported: { count: number; sum: number; counts: number[] };
  windowMin: number;
  windowMax: number;
}

export interface HistogramRecorder {
  record(value: number, attributes: Attributes): void;
}

class Histogram implements HistogramRecorder {
  readonly series = new Map<Attributes, Series>();
  constructor(
    readonly name: string,
    readonly unit: string,
    readonly description: string,
  ) {}

  record(value: number, attributes: Attributes): void {
    let s = this.series.get(attributes);
    if (!s) {
      s = {
        attributes,
        count: 0,
        sum: 0,
        min: Infinity,
        max: -Infinity,
        counts: new Array(BOUNDARIES.length + 1).fill(0),
        exported: { count: 0, sum: 0, counts: new Array(BOUNDARIES.length + 1).fill(0) },
        windowMin: Infinity,
        windowMax: -Infinity,
      };
      this.series.set(attributes, s);
    }
    s.count++;
    s.sum += value;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
    if (value < s.windowMin) s.windowMin = value;
    if (value > s.windowMax) s.windowMax = value;
    let i = 0;
    while (i < BOUNDARIES.length && value > BOUNDARIES[i]) i++;
    s.counts[i]++;
  }
}

const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
const SCOPE = { name: 'aoai_api_simulator.metrics' };

function producer(histograms: Histogram[], temporality: AggregationTemporality): MetricProducer {
  const startedAt = Date.now();
  let lastCollect = startedAt;
  return {
    async collect(): Promise<CollectionResult> {
      const now = Date.now();
      const start = hrTime(temporality === AggregationTemporality.CUMULATIVE ? startedAt : lastCollect);
      const end = hrTime(now);
      lastCollect = now;
      const metrics: HistogramMetricData[] = histograms.map((h) => ({
        descriptor: { name: h.name, description: h.description, unit: h.unit, valueType: ValueType.DOUBLE },
        aggregationTemporality: temporality,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [...h.series.values()].flatMap((s) => {
          if (temporality === AggregationTemporality.CUMULATIVE) {
            return [
              {
                attributes: s.attributes,
                startTime: start,
                endTime: end,
                value: { buckets: { boundaries: BOUNDARIES, counts: [...s.counts] }, count: s.count, sum: s.sum, min: s.min, max: s.max },
              },
            ];
          }
          const count = s.count - s.exported.count;
          if (count === 0) return [];
          const point = {
            attributes: s.attributes,
            startTime: start,
            endTime: end,
            value: {
              buckets: { boundaries: BOUNDARIES, counts: s.counts.map((c, i) => c - s.exported.counts[i]) },
              count,
              sum: s.sum - s.exported.sum,
              min: s.windowMin,
              max: s.windowMax,
            },
          };
          s.exported = { count: s.count, sum: s.sum, counts: [...s.counts] };
          s.windowMin = Infinity;
          s.windowMax = -Infinity;
          return [point];
        }),
      }));
      // The reader keeps the SDK's resource; only the scope's metrics matter here.
      return { resourceMetrics: { resource: undefined as never, scopeMetrics: [{ scope: SCOPE, metrics }] }, errors: [] };
    },
  };
}

/** A pull reader for the admin route. */
class LocalReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export interface SimulatorMetrics {
  latencyBase: HistogramRecorder;
  latencyFull: HistogramRecorder;
  tokensUsed: HistogramRecorder;
  tokensRequested: HistogramRecorder;
  tokensRateLimit: HistogramRecorder;
  limits: HistogramRecorder;
  /** Prometheus exposition text of everything recorded in this process. */
  prometheus(): Promise<string>;
}

let instance: SimulatorMetrics | undefined;

const EXPORT_START_DELAY_MS = 1500;

/**
 * With local auth off, telemetry is sent with an Entra ID token: the host's setting
 * `ClientId=<user-assigned identity>;Authorization=AAD` (or `Authorization=AAD` for the system one).
 */
function entraCredential(authentication: string | undefined) {
  if (!authentication || !/Authorization=AAD/i.test(authentication)) return undefined;
  const clientId = /ClientId=([^;]+)/i.exec(authentication)?.[1];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
  return new ManagedIdentityCredential(clientId ? { clientId } : {});
}

/** Application Insights export through the Azure Monitor distro; false when it could not start. */
function startAzureMonitor(connectionString: string, env: Record<string, string | undefined>, all: Histogram[]): boolean {
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { useAzureMonitor } = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
    const { AzureMonitorMetricExporter } = require('@azure/monitor-opentelemetry-exporter') as typeof import('@azure/monitor-opentelemetry-exporter');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const credential = entraCredential(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
    const exportReader = new PeriodicExportingMetricReader({
      exporter: new AzureMonitorMetricExporter({ connectionString, credential }),
      exportIntervalMillis: Number(env.OTEL_METRIC_EXPORT_INTERVAL) || 60000,
      metricProducers: [producer(all, AggregationTemporality.DELTA)],
    });
    // The Functions host already reports requests: the worker's own HTTP instrumentation would count them twice.
    useAzureMonitor({
      azureMonitorExporterOptions: { connectionString, credential },
      metricReaders: [exportReader],
      instrumentationOptions: { http: { enabled: false } },
    });
    return true;
  } catch (err) {
    log.error(`Application Insights export not started: ${(err as Error).message}`);
    return false;
  }
}

/** The process's metrics, set up on first use. */
export function simulatorMetrics(env: Record<string, string | undefined> = process.env): SimulatorMetrics {
  if (instance) return instance;
  const histograms = {
    latencyBase: new Histogram('aoai-api-simulator.latency.base', 'seconds', 'Latency of handling the request (before adding simulated latency)'),
    latencyFull: new Histogram('aoai-api-simulator.latency.full', 'seconds', 'Full latency of handling the request (including simulated latency)'),
    tokensUsed: new Histogram('aoai-api-simulator.tokens.used', 'tokens', 'Number of tokens used per request'),
    tokensRequested: new Histogram('aoai-api-simulator.tokens.requested', 'tokens', 'Number of tokens across all requests (success or not)'),
    tokensRateLimit: new Histogram('aoai-api-simulator.tokens.rate-limit', 'tokens', 'Number of tokens that were counted for rate-limiting'),
    limits: new Histogram('aoai-api-simulator.limits', 'requests', 'Number of requests that were rate-limited'),
  };
  const all = Object.values(histograms);
  const local = new LocalReader({ metricProducers: [producer(all, AggregationTemporality.CUMULATIVE)] });
  const readers: MetricReader[] = [local];
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (connectionString) {
    // The Azure Monitor distro takes about a second to load and start: it starts once the
    // instance has answered its first requests, so a cold start does not wait for it. Nothing
    // recorded meanwhile is lost (the histograms here are what its reader collects).
    setTimeout(() => startAzureMonitor(connectionString, env, all), EXPORT_START_DELAY_MS).unref();
  }
  // The local reader (GET /++/metrics) has a provider of its own, bound at once.
  new MeterProvider({ readers });
  const serializer = new PrometheusSerializer();
  instance = {
    ...histograms,
    async prometheus() {
      const { resourceMetrics } = await local.collect();
      return serializer.serialize(resourceMetrics);
    },
  };
  return instance;
}

/** Attribute objects are reused: series are keyed by the object itself. */
const attributeCache = new Map<string, Attributes>();
const OTHER = '(other)';
/**
 * Deployment names come from clients (undefined deployments are served): the first
 * MAX_DEPLOYMENT_LABELS names seen get their own series, later ones share `(other)`, so a scrape
 * stays small (each name costs ~15 KB of exposition text) however many names are sent.
 */
const MAX_DEPLOYMENT_LABELS = 200;
const labelled = new Set<string>();
export function attributes(deployment: string, key: 'status_code' | 'token_type' | 'reason' | undefined, value?: string | number): Attributes {
  const id = `${deployment}\u0000${key}\u0000${value}`;
  let attrs = attributeCache.get(id);
  if (!attrs) {
    if (!labelled.has(deployment)) {
      if (labelled.size >= MAX_DEPLOYMENT_LABELS && deployment !== OTHER) return attributes(OTHER, key, value);
      labelled.add(deployment);
    }
    if (attributeCache.size >= 10000 && deployment !== OTHER) return attributes(OTHER, key, value);
    attrs = key ? { deployment, [key]: value } : { deployment };
    attributeCache.set(id, attrs);
  }
  return attrs;
}
