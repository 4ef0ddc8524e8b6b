// A Document Intelligence (Form Recognizer) simulator, as the Python simulator's example:
//   POST /formrecognizer/documentModels/{modelId}:analyze → 202 + Operation-Location
//   GET  /formrecognizer/documentModels/{modelId}/analyzeResults/{resultId} → running, then succeeded
// Auth with `ocp-apim-subscription-key` (the simulator key). Analysis takes 1 s per 500 KB of the
// document (DOC_INTELLIGENCE_SECONDS_PER_MB to change). The analyze POST is limited to
// DOC_INTELLIGENCE_RPS requests per second (default 15, the S0 tier; 0 for none) on the
// simulator's own counters, so the limit holds across instances.
//
// Nothing is kept in memory: the result id carries when the job was submitted, its size and
// model, so any instance can answer the poll (as generated image URLs do).
// Run: npm run build && EXTENSION_PATH=dist/examples/document-intelligence npm start

import type { ExtensionApi } from '../../src/extensions';

interface Job {
  submitted: number;
  bytes: number;
  model: string;
}

const encodeJob = (job: Job) => Buffer.from(JSON.stringify([job.submitted, job.bytes, job.model])).toString('base64url');
function decodeJob(id: string): Job | undefined {
  try {
    const [submitted, bytes, model] = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));
    return typeof submitted === 'number' && typeof bytes === 'number' && typeof model === 'string' ? { submitted, bytes, model } : undefined;
  } catch {
    return undefined;
  }
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore'.split(' ');

export function initialize(api: ExtensionApi): void {
  const rps = Number(process.env.DOC_INTELLIGENCE_RPS ?? 15);
  const secondsPerMb = Number(process.env.DOC_INTELLIGENCE_SECONDS_PER_MB ?? 2);
  const limit =
    rps > 0
      ? api.createLimiter('docintelligence', {
          requestsPerMinute: rps * 60,
          message: (s) => `Requests to the Doc Intelligence API Simulator have exceeded call rate limit. Please retry after ${s} seconds.`,
        })
      : undefined;
  const unauthorized = () =>
    api.helpers.jsonResponse(401, {
      error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint.' },
    });

  api.addRoute({
    methods: ['POST'],
    // ':analyze' is part of the last segment: match the segment and split it.
    path: '/formrecognizer/documentModels/:modelAction',
    handler: async (request, params) => {
      if (!api.helpers.isAuthorized(request, 'ocp-apim-subscription-key')) return unauthorized();
      const [model, action] = params.modelAction.split(':');
      if (action !== 'analyze' || !model) return api.helpers.jsonResponse(404, { error: { code: '404', message: 'Resource not found' } });
      const refused = await limit?.();
      if (refused) return refused;
      const bytes = (await request.arrayBuffer()).byteLength;
      const url = new URL(request.url);
      const location = `${url.origin}/formrecognizer/documentModels/${model}/analyzeResults/${encodeJob({ submitted: Date.now(), bytes, model })}${url.search}`;
      return new Response(null, { status: 202, headers: { 'operation-location': location, 'apim-request-id': crypto.randomUUID() } });
    },
  });

  api.addRoute({
    methods: ['GET'],
    path: '/formrecognizer/documentModels/:model/analyzeResults/:resultId',
    handler: (request, params) => {
      if (!api.helpers.isAuthorized(request, 'ocp-apim-subscription-key')) return unauthorized();
      const job = decodeJob(params.resultId);
      if (!job || job.model !== params.model) return api.helpers.jsonResponse(404, { error: { code: 'NotFound', message: 'Resource not found.' } });
      const readyAt = job.submitted + (job.bytes / 1_000_000) * secondsPerMb * 1000;
      const now = Date.now();
      if (now < readyAt) {
        return api.helpers.jsonResponse(200, { status: 'running', createdDateTime: iso(job.submitted), lastUpdatedDateTime: iso(now) }, { 'retry-after': '1' });
      }
      const words = Math.max(1, Math.round(job.bytes / 25_000));
      const content = Array.from({ length: words }, (_, i) => WORDS[i % WORDS.length]).join(' ');
      return api.helpers.jsonResponse(200, {
        status: 'succeeded',
        createdDateTime: iso(job.submitted),
        lastUpdatedDateTime: iso(readyAt),
        analyzeResult: {
          apiVersion: new URL(request.url).searchParams.get('api-version') ?? '2023-07-31',
          modelId: job.model,
          stringIndexType: 'textElements',
          content,
          pages: [
            {
              pageNumber: 1,
              angle: 0,
              width: 2448,
              height: 3264,
              unit: 'pixel',
              words: content
                .split(' ')
                .slice(0, 5)
                .map((word, i) => ({ content: word, polygon: [0, 0, 1, 0, 1, 1, 0, 1], confidence: 0.99, span: { offset: i * 6, length: word.length } })),
              lines: [{ content: content.slice(0, 40), polygon: [0, 0, 1, 0, 1, 1, 0, 1], spans: [{ offset: 0, length: Math.min(40, content.length) }] }],
              spans: [{ offset: 0, length: content.length }],
              selectionMarks: [],
              barcodes: [],
              formulas: [],
            },
          ],
          tables: [],
          keyValuePairs: [],
          styles: [],
          languages: [],
          paragraphs: [],
          documents: [
            {
              docType: job.model.replace(/^prebuilt-/, '') + '.retailMeal',
              confidence: 0.981,
              boundingRegions: [{ pageNumber: 1, polygon: [0, 0, 1, 0, 1, 1, 0, 1] }],
              fields: {},
              spans: [{ offset: 0, length: content.length }],
            },
          ],
        },
      });
    },
  });
}
