// POST /openai/deployments/{deployment}/audio/transcriptions and .../audio/translations (Whisper)

import { audioContentTooLarge, invalidRequest, missingParameter } from '../errors';
import { jsonResponse, textResponse } from '../http';
import { sample } from '../pacing/latency';
import { requestBody, type Operation, type RequestContext } from './operation';
import { seededRng } from '../random';
import { generatePieces } from '../content/text';
import { optEnum, optNumber, optString, type Json } from '../validate';

/** Whisper's upload limit (25 MiB). */
export const MAX_AUDIO_BYTES = 26214400;
// Room for the multipart framing around a file right at the limit.
const MAX_FORM_OVERHEAD = 1024 * 1024;
const WORDS_PER_SECOND = 2.5;
// Without a WAV header, assume 128 kbit/s compressed audio.
const ASSUMED_BYTES_PER_SECOND = 16000;

type AudioFormat = 'json' | 'text' | 'srt' | 'vtt' | 'verbose_json';

const MIB = 1024 * 1024;

export interface AudioRequest {
  fileName: string;
  fileBytes: number;
  durationSeconds: number;
  /** Seeds the transcript so the same file reads the same. */
  fingerprint: string;
  responseFormat: AudioFormat;
  language?: string;
  wordTimestamps: boolean;
}

async function parseAudio(ctx: RequestContext): Promise<AudioRequest> {
  const contentType = ctx.request.headers.get('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    throw invalidRequest(`Invalid Content-Type header (${contentType || 'none'}), expected multipart/form-data.`, null, 'invalid_content_type');
  }
  const bytes = await requestBody(ctx, MAX_AUDIO_BYTES + MAX_FORM_OVERHEAD, (size) => audioContentTooLarge(MAX_AUDIO_BYTES, size));
  let form: FormData;
  try {
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw invalidRequest('Could not parse multipart form data.', null, 'invalid_multipart');
  }
  const file = form.get('file');
  if (file === null || typeof file === 'string') throw missingParameter('file');
  if (file.size === 0 || file.size > MAX_AUDIO_BYTES) throw audioContentTooLarge(MAX_AUDIO_BYTES, file.size);
  const fields: Json = {};
  for (const key of ['response_format', 'language', 'prompt', 'temperature']) {
    const value = form.get(key);
    if (typeof value === 'string') fields[key] = key === 'temperature' ? Number(value) : value;
  }
  optNumber(fields, 'temperature', 0, 1);
  optString(fields, 'prompt');
  const audio = new Uint8Array(await file.arrayBuffer());
  const granularities = [...form.getAll('timestamp_granularities[]'), ...form.getAll('timestamp_granularities')];
  return {
    fileName: file.name,
    fileBytes: file.size,
    durationSeconds: wavDuration(audio) ?? Math.max(0.1, file.size / ASSUMED_BYTES_PER_SECOND),
    fingerprint: `${file.size}:${Buffer.from(audio.subarray(0, 4096)).toString('base64')}`,
    responseFormat: optEnum(fields, 'response_format', ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const) ?? 'json',
    language: optString(fields, 'language'),
    wordTimestamps: granularities.includes('word'),
  };
}

/** Duration from a PCM WAV header (RIFF/WAVE, fmt byte rate, data size), if it is one. */
export function wavDuration(bytes: Uint8Array): number | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < 12 || view.toString('ascii', 0, 4) !== 'RIFF' || view.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let byteRate = 0;
  for (let at = 12; at + 8 <= view.length; ) {
    const id = view.toString('ascii', at, at + 4);
    const size = view.readUInt32LE(at + 4);
    if (id === 'fmt ' && at + 16 <= view.length) byteRate = view.readUInt32LE(at + 16);
    if (id === 'data') return byteRate > 0 ? Math.min(size, view.length - at - 8) / byteRate : undefined;
    at += 8 + size + (size % 2);
  }
  return undefined;
}

interface Segment {
  start: number;
  end: number;
  text: string;
  words: string[];
}

function transcribe(req: AudioRequest): { text: string; segments: Segment[] } {
  const rng = seededRng(req.fingerprint);
  const wordCount = Math.max(1, Math.round(req.durationSeconds * WORDS_PER_SECOND));
  const pieces = generatePieces((wordCount * 1.2) | 0, rng, true);
  // Group into sentences, then sentences into segments spread evenly over the duration.
  const sentences: string[] = [];
  let current = '';
  for (const p of pieces) {
    current += p;
    if (p === '.') {
      sentences.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) sentences.push(current.trim() + '.');
  const totalWords = sentences.reduce((n, s) => n + s.split(' ').length, 0);
  let t = 0;
  const segments = sentences.map((text) => {
    const words = text.split(' ');
    const start = t;
    t += (words.length / totalWords) * req.durationSeconds;
    return { start: round2(start), end: round2(t), text: ' ' + text, words };
  });
  return { text: sentences.join(' '), segments };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function timestamp(seconds: number, separator: ',' | '.'): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3600000),
    m = Math.floor(ms / 60000) % 60,
    s = Math.floor(ms / 1000) % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${separator}${String(ms % 1000).padStart(3, '0')}`;
}

function respond(req: AudioRequest, ctx: RequestContext, task: 'transcribe' | 'translate'): Response {
  const { text, segments } = transcribe(req);
  switch (req.responseFormat) {
    case 'text':
      return textResponse(200, text + '\n', ctx.headers);
    case 'srt':
      return textResponse(
        200,
        segments.map((s, i) => `${i + 1}\n${timestamp(s.start, ',')} --> ${timestamp(s.end, ',')}\n${s.text.trim()}\n`).join('\n') + '\n',
        ctx.headers,
      );
    case 'vtt':
      return textResponse(
        200,
        'WEBVTT\n\n' + segments.map((s) => `${timestamp(s.start, '.')} --> ${timestamp(s.end, '.')}\n${s.text.trim()}\n`).join('\n') + '\n',
        ctx.headers,
        'text/vtt; charset=utf-8',
      );
    case 'verbose_json': {
      const body: Json = {
        task,
        language: task === 'translate' ? 'english' : (req.language ?? 'english'),
        duration: round2(req.durationSeconds),
        text,
        segments: segments.map((s, id) => ({
          id,
          seek: 0,
          start: s.start,
          end: s.end,
          text: s.text,
          tokens: [],
          temperature: 0,
          avg_logprob: -0.25,
          compression_ratio: 1.2,
          no_speech_prob: 0.01,
        })),
      };
      if (req.wordTimestamps) {
        body.words = segments.flatMap((s) =>
          s.words.map((word, i) => {
            const step = (s.end - s.start) / s.words.length;
            return { word: word.replace(/[.,]$/, ''), start: round2(s.start + i * step), end: round2(s.start + (i + 1) * step) };
          }),
        );
      }
      return jsonResponse(200, body, ctx.headers);
    }
    default:
      return jsonResponse(200, { text }, ctx.headers);
  }
}

export const audioTranscriptions: Operation<AudioRequest> = {
  kind: 'audio',
  aoaiName: 'transcription',
  operationId: 'Transcriptions_Create',
  parse: parseAudio,
  cost: () => 0,
  latencyMs: (req, profile) => (sample(profile.perMiBMs) * req.fileBytes) / MIB,
  generate: (req, ctx) => respond(req, ctx, 'transcribe'),
};

export const audioTranslations: Operation<AudioRequest> = {
  kind: 'audio',
  aoaiName: 'translation',
  operationId: 'Translations_Create',
  parse: parseAudio,
  cost: () => 0,
  latencyMs: (req, profile) => (sample(profile.perMiBMs) * req.fileBytes) / MIB,
  generate: (req, ctx) => respond(req, ctx, 'translate'),
};
