// POST /openai/deployments/{deployment}/images/generations (DALL-E), and the GET route that
// serves the generated images. An image URL carries its size and seed, so any instance can serve
// it (no shared storage needed under scale-out).

import { invalidValue, missingParameter, resourceNotFound } from '../errors';
import { decodeUtf8, jsonResponse, responseHeaders, type Headers } from '../http';
import { sample } from '../pacing/latency';
import { requestBody, type Operation, type RequestContext } from './operation';
import { randomId } from '../random';
import { gradientPng } from '../content/png';
import { optEnum, optInt, optString, parseJsonObject } from '../validate';

const SIZES: Record<string, readonly string[]> = {
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
};
const MAX_PROMPT: Record<string, number> = { 'dall-e-2': 1000, 'dall-e-3': 4000 };

export const IMAGE_ROUTE_PREFIX = '/++/images/';

export interface ImageRequest {
  prompt: string;
  n: number;
  size: string;
  quality: 'standard' | 'hd';
  style: 'vivid' | 'natural';
  responseFormat: 'url' | 'b64_json';
}

async function parseImage(ctx: RequestContext): Promise<ImageRequest> {
  const body = parseJsonObject(decodeUtf8(await requestBody(ctx, ctx.config.maxRequestBodyBytes)));
  const modelName = ctx.deployment.model.name;
  const prompt = optString(body, 'prompt');
  if (!prompt) throw missingParameter('prompt');
  const maxPrompt = MAX_PROMPT[modelName] ?? 4000;
  if (prompt.length > maxPrompt) {
    throw invalidValue(
      'prompt',
      `Invalid 'prompt': string too long. Expected a string with maximum length ${maxPrompt}, but got a string with length ${prompt.length} instead.`,
    );
  }
  const n = optInt(body, 'n', 1, 10) ?? 1;
  if (modelName === 'dall-e-3' && n !== 1) throw invalidValue('n', 'You must provide n=1 for this model.');
  const sizes = SIZES[modelName] ?? SIZES['dall-e-3'];
  return {
    prompt,
    n,
    size: optEnum(body, 'size', sizes) ?? '1024x1024',
    quality: optEnum(body, 'quality', ['standard', 'hd'] as const) ?? 'standard',
    style: optEnum(body, 'style', ['vivid', 'natural'] as const) ?? 'vivid',
    responseFormat: optEnum(body, 'response_format', ['url', 'b64_json'] as const) ?? 'url',
  };
}

const SAFE = { filtered: false, severity: 'safe' } as const;
const CONTENT_FILTERS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
const PROMPT_FILTERS = { hate: SAFE, jailbreak: { filtered: false, detected: false }, self_harm: SAFE, sexual: SAFE, violence: SAFE };

async function generate(req: ImageRequest, ctx: RequestContext): Promise<Response> {
  const [width, height] = req.size.split('x').map(Number);
  const origin = new URL(ctx.request.url).origin;
  const dalle3 = ctx.deployment.model.name === 'dall-e-3';
  const data = await Promise.all(
    Array.from({ length: req.n }, async () => {
      const seed = randomId(24);
      const image =
        req.responseFormat === 'b64_json'
          ? { b64_json: (await gradientPng(width, height, seed)).toString('base64') }
          : { url: `${origin}${IMAGE_ROUTE_PREFIX}${width}x${height}/${seed}.png` };
      return {
        content_filter_results: CONTENT_FILTERS,
        prompt_filter_results: PROMPT_FILTERS,
        ...(dalle3
          ? {
              revised_prompt: `A ${req.style === 'vivid' ? 'vivid, dramatic' : 'natural, realistic'} image of ${req.prompt.replace(/[.\s]+$/, '')}, rendered in ${req.quality === 'hd' ? 'fine' : 'clear'} detail.`,
            }
          : {}),
        ...image,
      };
    }),
  );
  return jsonResponse(200, { created: Math.floor(ctx.now / 1000), data }, ctx.headers);
}

export const imageGenerations: Operation<ImageRequest> = {
  kind: 'images',
  aoaiName: 'imageGeneration',
  operationId: 'ImageGenerations_Create',
  parse: parseImage,
  cost: () => 0,
  latencyMs: (req, profile) => sample(profile.perImageMs) * req.n,
  generate,
};

const IMAGE_FILE = /^([A-Za-z0-9_-]{1,64})\.png$/;
const MAX_SIDE = 1792;

/** GET /++/images/{width}x{height}/{seed}.png: no key needed, like the SAS URL AOAI returns. */
// Load tests fetch the same URLs again and again: the last few images are kept, encoded.
const recent = new Map<string, Promise<Buffer>>();
const RECENT_IMAGES = 32;

export async function serveImage(size: string, file: string, headers: Headers): Promise<Response> {
  const dims = /^(\d{1,4})x(\d{1,4})$/.exec(size);
  const name = IMAGE_FILE.exec(file);
  if (!dims || !name) throw resourceNotFound();
  const [width, height] = [Number(dims[1]), Number(dims[2])];
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) throw resourceNotFound();
  const key = `${width}x${height}/${name[1]}`;
  let png = recent.get(key);
  if (!png) {
    png = gradientPng(width, height, name[1]);
    if (recent.size >= RECENT_IMAGES) recent.delete(recent.keys().next().value!);
    recent.set(key, png);
  }
  return new Response((await png) as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: responseHeaders(headers, { 'content-type': 'image/png', 'cache-control': 'public, max-age=86400' }),
  });
}
