// The model catalogue: what each model can do and how it counts tokens.
// `version` is what AOAI reports in a response's `model` field (not the deployment name).

export type Encoding = 'cl100k_base' | 'o200k_base';
export type OperationKind = 'chat' | 'completions' | 'embeddings' | 'audio' | 'images';

export interface ModelInfo {
  name: string;
  version: string;
  operations: readonly OperationKind[];
  encoding: Encoding;
  contextWindow: number;
  maxOutputTokens: number;
  /** Reasoning models reject `max_tokens` and non-default `temperature`. */
  reasoning?: boolean;
  embeddingSize?: number;
  /** text-embedding-3 models accept `dimensions`. */
  supportsDimensions?: boolean;
  /** Per-input token limit for embeddings. */
  maxInputTokens?: number;
  /** Whisper and image models are limited by requests only. */
  tokenLimited: boolean;
}

const chat = (
  name: string,
  version: string,
  encoding: Encoding,
  contextWindow: number,
  maxOutputTokens: number,
  extra: Partial<ModelInfo> = {},
): ModelInfo => ({ name, version, operations: ['chat'], encoding, contextWindow, maxOutputTokens, tokenLimited: true, ...extra });

const embedding = (name: string, embeddingSize: number, supportsDimensions: boolean): ModelInfo => ({
  name,
  version: name,
  operations: ['embeddings'],
  encoding: 'cl100k_base',
  contextWindow: 8192,
  maxOutputTokens: 0,
  embeddingSize,
  supportsDimensions,
  maxInputTokens: 8191,
  tokenLimited: true,
});

const reasoning = { reasoning: true } as const;

export const MODELS: readonly ModelInfo[] = [
  chat('gpt-35-turbo', 'gpt-35-turbo', 'cl100k_base', 16385, 4096, { operations: ['chat', 'completions'] }),
  chat('gpt-35-turbo-0613', 'gpt-35-turbo', 'cl100k_base', 4096, 4096, { operations: ['chat', 'completions'] }),
  chat('gpt-35-turbo-16k', 'gpt-35-turbo-16k', 'cl100k_base', 16384, 4096),
  chat('gpt-35-turbo-instruct', 'gpt-35-turbo-instruct', 'cl100k_base', 4097, 4096, { operations: ['completions'] }),
  chat('davinci-002', 'davinci-002', 'cl100k_base', 16384, 4096, { operations: ['completions'] }),
  chat('babbage-002', 'babbage-002', 'cl100k_base', 16384, 4096, { operations: ['completions'] }),
  chat('gpt-4', 'gpt-4', 'cl100k_base', 8192, 8192),
  chat('gpt-4-32k', 'gpt-4-32k', 'cl100k_base', 32768, 32768),
  chat('gpt-4-turbo', 'gpt-4-turbo-2024-04-09', 'cl100k_base', 128000, 4096),
  chat('gpt-4o', 'gpt-4o-2024-08-06', 'o200k_base', 128000, 16384),
  chat('gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 'o200k_base', 128000, 16384),
  chat('gpt-4.1', 'gpt-4.1-2025-04-14', 'o200k_base', 1047576, 32768),
  chat('gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14', 'o200k_base', 1047576, 32768),
  chat('gpt-4.1-nano', 'gpt-4.1-nano-2025-04-14', 'o200k_base', 1047576, 32768),
  chat('o1', 'o1-2024-12-17', 'o200k_base', 200000, 100000, reasoning),
  chat('o1-mini', 'o1-mini-2024-09-12', 'o200k_base', 128000, 65536, reasoning),
  chat('o3', 'o3-2025-04-16', 'o200k_base', 200000, 100000, reasoning),
  chat('o3-mini', 'o3-mini-2025-01-31', 'o200k_base', 200000, 100000, reasoning),
  chat('o4-mini', 'o4-mini-2025-04-16', 'o200k_base', 200000, 100000, reasoning),
  chat('gpt-5', 'gpt-5-2025-08-07', 'o200k_base', 400000, 128000, reasoning),
  chat('gpt-5-mini', 'gpt-5-mini-2025-08-07', 'o200k_base', 400000, 128000, reasoning),
  chat('gpt-5-nano', 'gpt-5-nano-2025-08-07', 'o200k_base', 400000, 128000, reasoning),
  embedding('text-embedding-ada-002', 1536, false),
  embedding('text-embedding-ada-001', 1024, false),
  embedding('text-embedding-3-small', 1536, true),
  embedding('text-embedding-3-large', 3072, true),
  // Not Azure models: names the Python simulator's catalogue (and its example deployment file) uses.
  embedding('text-embedding-3-medium', 2048, true),
  embedding('text-embedding-3-xlarge', 4096, true),
  { name: 'whisper', version: 'whisper', operations: ['audio'], encoding: 'cl100k_base', contextWindow: 0, maxOutputTokens: 0, tokenLimited: false },
  { name: 'dall-e-2', version: 'dall-e-2', operations: ['images'], encoding: 'cl100k_base', contextWindow: 1000, maxOutputTokens: 0, tokenLimited: false },
  { name: 'dall-e-3', version: 'dall-e-3', operations: ['images'], encoding: 'cl100k_base', contextWindow: 4000, maxOutputTokens: 0, tokenLimited: false },
];

// Names the Python simulator's catalogue and OpenAI use for the same models.
const ALIASES: Record<string, string> = {
  'gpt-3.5-turbo': 'gpt-35-turbo',
  'gpt-3.5-turbo-0613': 'gpt-35-turbo-0613',
  'gpt-3.5-turbo-16k': 'gpt-35-turbo-16k',
  'gpt-3.5-turbo-instruct': 'gpt-35-turbo-instruct',
};

const byName = new Map(MODELS.map((m) => [m.name, m]));

/** Looks a model up by catalogue name, alias, or `name-YYYY-MM-DD` version string. */
export function findModel(name: string): ModelInfo | undefined {
  const key = name.trim().toLowerCase();
  const direct = byName.get(ALIASES[key] ?? key);
  if (direct) return direct;
  const unversioned = key.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  if (unversioned !== key) {
    const model = byName.get(ALIASES[unversioned] ?? unversioned);
    if (model) return { ...model, version: key };
  }
  return MODELS.find((m) => m.version === key);
}

export function modelNames(): string[] {
  return [...byName.keys(), ...Object.keys(ALIASES)];
}

/** The model served for an undefined deployment on a route (the Python simulator's fallbacks). */
export const ROUTE_DEFAULT_MODEL: Record<OperationKind, string> = {
  chat: 'gpt-35-turbo-0613',
  completions: 'gpt-35-turbo-0613',
  embeddings: 'text-embedding-ada-002',
  audio: 'whisper',
  images: 'dall-e-3',
};
