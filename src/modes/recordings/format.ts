// Recording files: the Python simulator's YAML format (vcrpy-like cassettes, one file per URL
// path) and its request hash, so recordings made by either simulator replay in the other.
// Our one addition is `response.event_offsets_ms`: when each SSE event of a streamed body arrived.

import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { md5Hex } from '../../random';

export type HeaderLists = Record<string, string[]>;
export type Body = string | Uint8Array | null;

export interface RecordedRequest {
  method: string;
  /** The full original URL, query included (the query is not part of the match). */
  uri: string;
  /** Only content-type and accept: no secrets in recordings. */
  headers: HeaderLists;
  /** Text for JSON/text bodies, bytes otherwise; null when left out (large binary uploads). */
  body?: Body;
  body_hash?: string;
}

export interface RecordedResponse {
  status: { code: number; message?: string };
  headers: HeaderLists;
  body: { string: Body };
  /** Time the upstream took to answer in full. */
  duration_ms?: number;
  /** Ours (additive): for a streamed body, each SSE event's arrival, in ms from the request. */
  event_offsets_ms?: number[];
}

export interface Interaction {
  request: RecordedRequest;
  response: RecordedResponse;
  context_values?: Record<string, unknown>;
}

export class RecordingFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingFormatError';
  }
}

/** The file an URL path's interactions live in: `/openai/deployments/x/chat/completions` → `openai_deployments_x_chat_completions.yaml`. */
export function recordingFileName(path: string): string {
  const trimmed = path.split('?')[0].replace(/^\/+|\/+$/g, '');
  // The Python simulator only maps '/' to '_'; anything that could leave the folder or upset a
  // blob name is mapped too (AOAI deployment names never contain such characters).
  const name = trimmed
    .replace(/\//g, '_')
    .replace(/[^A-Za-z0-9._\-~+=,@]/g, '_')
    .replace(/^\.+/, '_');
  // File systems refuse names past 255 bytes: a long one keeps its start and a hash of the whole.
  return (name.length > MAX_FILE_STEM ? `${name.slice(0, MAX_FILE_STEM - 33)}_${md5Hex(name)}` : name) + '.yaml';
}

const MAX_FILE_STEM = 200;

const md5 = (data: string | Uint8Array) => createHash('md5').update(data).digest('hex');
const utf8 = new TextEncoder();
const STATIC_BOUNDARY = Buffer.from('--AOAI-API-SIMULATOR-BOUNDARY');

/**
 * md5 of the body, with a multipart boundary replaced by a fixed one (clients pick a random
 * boundary per request). Same bytes as the Python simulator's `hash_body`.
 */
export function bodyHash(body: Body | undefined, contentType: string | undefined): string {
  let bytes = bodyBytes(body);
  const boundary = contentType?.startsWith('multipart/form-data') ? multipartBoundary(contentType) : undefined;
  if (boundary) {
    const marker = Buffer.from('--' + boundary);
    if (bytes.subarray(0, marker.length).equals(marker)) bytes = Buffer.concat([STATIC_BOUNDARY, bytes.subarray(marker.length)]);
    bytes = replaceAll(bytes, Buffer.concat([Buffer.from('\n'), marker]), Buffer.concat([Buffer.from('\n'), STATIC_BOUNDARY]));
  }
  return md5(bytes);
}

/**
 * A recorded body as bytes. A hand-edited body that YAML read as a mapping or list (JSON written
 * without quotes) counts as its JSON text.
 */
export function bodyBytes(body: unknown): Buffer {
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(utf8.encode(body));
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return Buffer.from(utf8.encode(JSON.stringify(body)));
}

function multipartBoundary(contentType: string): string | undefined {
  const at = contentType.indexOf('boundary=');
  if (at < 0) return undefined;
  const value = contentType
    .slice(at + 'boundary='.length)
    .split(';')[0]
    .trim();
  return value.replace(/^"(.*)"$/, '$1') || undefined;
}

function replaceAll(data: Buffer, find: Buffer, replacement: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = data.indexOf(find, from); at >= 0; at = data.indexOf(find, from)) {
    parts.push(data.subarray(from, at), replacement);
    from = at + find.length;
  }
  if (from === 0) return data;
  parts.push(data.subarray(from));
  return Buffer.concat(parts);
}

/** The match key: md5 of `METHOD|/path|bodyHash`, the query left out. */
export const requestHash = (method: string, path: string, hashOfBody: string) => md5(`${method}|${path}|${hashOfBody}`);

/**
 * A looser key for JSON bodies: key order and whitespace do not matter, and the listed
 * top-level fields (e.g. `user`, `seed`) are left out.
 */
export function jsonRequestKey(method: string, path: string, body: Body | undefined, ignoreFields: readonly string[]): string | undefined {
  if (body === null || body === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyBytes(body).toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    parsed = Object.fromEntries(Object.entries(parsed).filter(([k]) => !ignoreFields.includes(k)));
  }
  return md5(`${method}|${path}|json:${canonicalJson(parsed)}`);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    return (
      '{' +
      Object.keys(value)
        .sort()
        .map((k) => JSON.stringify(k) + ':' + canonicalJson((value as Record<string, unknown>)[k]))
        .join(',') +
      '}'
    );
  }
  return JSON.stringify(value);
}

/** The path a recorded `uri` names, with '//' collapsed as incoming requests are. */
export function uriPath(uri: string): string {
  let path: string;
  try {
    path = new URL(uri, 'http://recording.invalid').pathname;
  } catch {
    path = uri.split('?')[0];
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    /* keep it encoded */
  }
  return path.replace(/\/{2,}/g, '/');
}

const firstValue = (headers: HeaderLists | undefined, name: string): string | undefined => {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : String(value);
  }
  return undefined;
};

/**
 * The interaction's match key; a hand-edited one without `body_hash` is hashed from its body.
 * Throws RecordingFormatError when it has neither, or is not an interaction at all.
 */
export function interactionHash(interaction: unknown): string {
  const request = (interaction as Interaction | null)?.request;
  if (!request || typeof request.method !== 'string' || typeof request.uri !== 'string') {
    throw new RecordingFormatError('an interaction needs request.method and request.uri');
  }
  const response = (interaction as Interaction).response;
  const code = response?.status?.code;
  if (!Number.isInteger(code) || code < 200 || code > 599) {
    throw new RecordingFormatError(`the interaction for ${request.method} ${request.uri} needs response.status.code from 200 to 599`);
  }
  if (response.headers !== undefined && response.headers !== null && (typeof response.headers !== 'object' || Array.isArray(response.headers))) {
    throw new RecordingFormatError(`the interaction for ${request.method} ${request.uri} has response.headers that is not a mapping`);
  }
  let hash = request.body_hash;
  if (typeof hash !== 'string' || !hash) {
    if (request.body === undefined || request.body === null) {
      throw new RecordingFormatError(`the interaction for ${request.method} ${request.uri} has neither body nor body_hash`);
    }
    hash = bodyHash(request.body, firstValue(request.headers, 'content-type'));
  }
  return requestHash(request.method.toUpperCase(), uriPath(request.uri), hash);
}

/** A recording file's interactions, as written (entries are checked when indexed, not here). */
export function parseRecordingFile(text: string): unknown[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text, { customTags: ['binary'], maxAliasCount: 1000 });
  } catch (err) {
    throw new RecordingFormatError(`not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return [];
  const interactions = (doc as { interactions?: unknown }).interactions;
  if (typeof doc !== 'object' || (interactions !== undefined && interactions !== null && !Array.isArray(interactions))) {
    throw new RecordingFormatError('expected a mapping with an `interactions` list');
  }
  return (interactions as unknown[] | undefined) ?? [];
}

export function serialiseRecordingFile(interactions: readonly unknown[]): string {
  return YAML.stringify({ interactions, version: 1 }, { customTags: ['binary'], lineWidth: 0, aliasDuplicateObjects: false });
}
