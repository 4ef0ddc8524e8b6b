// Every error body the simulator sends, in one place. Operations throw `AoaiError`; the pipeline
// renders it with the common response headers. Texts are AOAI's own where known (see
// shared/reference/aoai-wire-format.md B1, B2, B9).

import { log } from './log';

export interface GatewayErrorBody {
  error: { code: string; message: string };
}

export interface OpenAIErrorBody {
  error: { message: string; type: string | null; param: string | null; code: string | null; [k: string]: unknown };
}

export class AoaiError extends Error {
  constructor(
    readonly status: number,
    readonly body: GatewayErrorBody | OpenAIErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    // These are answers, not faults: skip the stack capture, a large share of a 429's cost.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(body.error.message);
    Error.stackTraceLimit = limit;
    this.name = 'AoaiError';
  }
}

/** Gateway (ARM-style) errors: `{"error":{"code","message"}}`. */
const gateway = (status: number, code: string, message: string) => new AoaiError(status, { error: { code, message } });

/** Model (OpenAI-style) errors: `{"error":{"message","type","param","code"}}`. */
export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new AoaiError(400, { error: { message, type: 'invalid_request_error', param, code } });

export const resourceNotFound = () => gateway(404, '404', 'Resource not found');

export const unauthorized = () =>
  gateway(
    401,
    '401',
    'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an ' +
      'active subscription and use a correct regional API endpoint for your resource.',
  );

export const deploymentNotFound = () =>
  gateway(
    404,
    'DeploymentNotFound',
    'The API deployment for this resource does not exist. If you created the deployment within the last 5 ' + 'minutes, please wait a moment and try again.',
  );

/** `operation` is AOAI's name for it: chatCompletion, completion, embeddings, ... */
export const operationNotSupported = (operation: string, model: string) =>
  gateway(
    400,
    'OperationNotSupported',
    `The ${operation} operation does not work with the specified model, ${model}. Please choose different model ` +
      'and try again. You can learn more about which models can be used with each operation here: ' +
      'https://go.microsoft.com/fwlink/?linkid=2197993.',
  );

export const methodNotAllowed = () => gateway(405, '405', 'Method Not Allowed');

export const requestTooLarge = (limit: number) =>
  new AoaiError(413, {
    error: { message: `Request body too large. The maximum size is ${limit} bytes.`, type: 'invalid_request_error', param: null, code: 'request_too_large' },
  });

/** What the audio routes send for an empty or over-25-MiB file (the Python simulator's capture). */
export const audioContentTooLarge = (limit: number, bytesRead: number) =>
  new AoaiError(413, {
    error: { message: `Maximum content size limit (${limit}) exceeded (${bytesRead} bytes read)`, type: 'server_error', param: 'null', code: 'null' },
  });

export const invalidJson = () =>
  invalidRequest(
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library " +
      'correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble ' +
      'figuring out how to fix this, please contact us through our help center at help.openai.com.)',
  );

export const missingParameter = (param: string) => invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');

export const invalidType = (param: string, expected: string, got: unknown) =>
  invalidRequest(`Invalid type for '${param}': expected ${expected}, but got ${describeType(got)} instead.`, param, 'invalid_type');

/** A strict schema past OpenAI's documented size limits: "Invalid schema for response_format 'x': 11 levels of nesting exceeds limit of 10." */
export const invalidSchema = (kind: 'response_format' | 'function', name: string, problem: string, param: string) =>
  invalidRequest(`Invalid schema for ${kind} '${name}': ${problem}`, param, 'invalid_json_schema');

export const invalidValue = (param: string, message: string) => invalidRequest(message, param, 'invalid_value');

export const unsupportedParameter = (param: string, message: string) => invalidRequest(message, param, 'unsupported_parameter');

export const unsupportedValue = (param: string, message: string) => invalidRequest(message, param, 'unsupported_value');

/** AOAI's quota 429 (B9 variants 1 and 3); `seconds` equals the retry-after header. */
export const rateLimited = (operationId: string, apiVersion: string, reason: 'tokens' | 'requests', seconds: number) =>
  new AoaiError(429, {
    error: {
      code: '429',
      message:
        `Requests to the ${operationId} Operation under Azure OpenAI API version ${apiVersion} have exceeded ` +
        `${reason === 'tokens' ? 'token' : 'call'} rate limit of your current OpenAI S0 pricing tier. Please retry after ` +
        `${seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
    },
  });

export const internalError = () => gateway(500, '500', 'Internal server error');

/** What the client gets for anything thrown: an AoaiError as it is; anything else is logged and a 500. */
export function asAoaiError(err: unknown): AoaiError {
  if (err instanceof AoaiError) return err;
  log.error(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return internalError();
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

// Event codes.

/** The event's daily request cap is spent: back at the next UTC midnight. */
export const dailyCapReached = (cap: number, seconds: number) =>
  new AoaiError(
    429,
    {
      error: { code: '429', message: `This event's daily request cap (${cap}) has been reached. Please retry after ${seconds} seconds.` },
    },
    { 'retry-after': String(seconds), 'retry-after-ms': String(seconds * 1000) },
  );

export const eventsNotConfigured = () =>
  gateway(400, 'EventsNotConfigured', 'Event codes live in Table Storage: set AZURE_STORAGE_CONNECTION_STRING (or AzureWebJobsStorage).');

// Runtime configuration.

export const invalidConfiguration = (message: string) => gateway(400, 'InvalidConfiguration', message);

export const configStoreUnavailable = (message: string) =>
  new AoaiError(503, { error: { code: 'ConfigurationStoreUnavailable', message } }, { 'retry-after': '5' });

// Record and replay.

export const recordingNotFound = (method: string, path: string, hash: string, file: string) =>
  gateway(
    404,
    'RecordingNotFound',
    `No recording matches ${method} ${path} (request hash ${hash}) in ${file}. Record it first (SIMULATOR_MODE=record), ` +
      'or check that the request body is byte for byte the recorded one (RECORDING_MATCH=json relaxes this).',
  );

export const recordingStoreUnavailable = (message: string) =>
  new AoaiError(503, { error: { code: 'RecordingStoreUnavailable', message } }, { 'retry-after': '5' });

export const notInRecordMode = (mode: string) => gateway(400, 'NotInRecordMode', `Not saving recordings: the simulator is in ${mode} mode, not record mode.`);

/** Record mode with a backends Table: no active row serves this deployment (and no AZURE_OPENAI_ENDPOINT). */
export const noActiveBackend = (deployment: string, source: string) =>
  gateway(404, 'DeploymentNotFound', `No active backend serves the deployment '${deployment}': add or activate a row for it in ${source}.`);

export const backendsTableUnavailable = (source: string) =>
  gateway(503, 'ServiceUnavailable', `The backends table (${source}) cannot be read; try again shortly.`);

export const badGateway = (message: string) => gateway(502, 'BadGateway', message);

export const gatewayTimeout = (message: string) => gateway(504, 'GatewayTimeout', message);

/** Every upstream backend is cooling down after a 429 or 5xx: the earliest is back in `seconds`. */
export const backendsCoolingDown = (seconds: number, ms: number) =>
  new AoaiError(
    429,
    {
      error: {
        code: '429',
        message: `Every Azure OpenAI backend is cooling down after answering 429 or 5xx. Please retry after ${seconds} seconds.`,
      },
    },
    { 'retry-after': String(seconds), 'retry-after-ms': String(ms) },
  );

// ---- The Responses API

/** An api-version before the Responses API (as AOAI answers it). */
export const responsesApiVersion = () => gateway(400, 'BadRequest', 'Azure OpenAI Responses API is enabled only for api-version 2025-03-01-preview and later');

export const responseNotFound = (id: string) =>
  new AoaiError(404, { error: { message: `Response with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null } });

export const responseNotCancellable = (message: string) => invalidRequest(message, null, null);

export const responseStoreUnavailable = (message: string) =>
  new AoaiError(503, { error: { code: 'ResponseStoreUnavailable', message: `Stored responses are unavailable: ${message}` } }, { 'retry-after': '5' });

export const modelNotFound = (id: string) =>
  new AoaiError(404, { error: { message: `The model '${id}' does not exist.`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });

/** The body did not arrive (the client left, or the request timeout cut it off). */
export const bodyNotReceived = () => gateway(408, 'RequestTimeout', 'The request body was not received in full.');

// ---- Entra ID tokens (as AOAI answers them)

export const invalidToken = () =>
  gateway(401, '401', 'Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.');

export const principalNotAllowed = (principal: string, method: string, path: string) =>
  gateway(
    401,
    'PermissionDenied',
    `The principal \`${principal}\` lacks the required data action \`Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action\` to perform \`${method} ${path}\` operation.`,
  );
