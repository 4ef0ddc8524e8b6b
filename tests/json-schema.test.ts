import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { generateFromSchema } from '../src/content/json-schema';
import { seededRng } from '../src/random';

const ajv = new Ajv({ strict: false });
addFormats(ajv);

const schemas: Record<string, object> = {
  nested: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      when: { type: 'string', format: 'date-time' },
      email: { type: 'string', format: 'email' },
      score: { type: 'number', minimum: 0, maximum: 1 },
      count: { type: 'integer', exclusiveMinimum: 2, maximum: 9, multipleOf: 3 },
      tags: { type: 'array', items: { type: 'string', minLength: 3, maxLength: 12 }, minItems: 2, maxItems: 4, uniqueItems: true },
      kind: { enum: ['a', 'b', 'c'] },
      fixed: { const: 42 },
      maybe: { type: ['string', 'null'] },
    },
    required: ['id', 'when', 'score', 'count', 'tags', 'kind', 'fixed', 'maybe'],
    additionalProperties: false,
  },
  refsAndUnions: {
    $defs: {
      step: { type: 'object', properties: { text: { type: 'string' }, ok: { type: 'boolean' } }, required: ['text', 'ok'], additionalProperties: false },
    },
    type: 'object',
    properties: {
      steps: { type: 'array', items: { $ref: '#/$defs/step' } },
      answer: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      extra: {
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { properties: { b: { type: 'integer' } }, required: ['b'] },
        ],
      },
    },
    required: ['steps', 'answer', 'extra'],
  },
  recursive: {
    $defs: {
      node: {
        type: 'object',
        properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } },
        required: ['name', 'children'],
      },
    },
    $ref: '#/$defs/node',
  },
  topLevelArray: { type: 'array', items: { type: 'integer', minimum: -5, maximum: 5 }, minItems: 1 },
};

describe('generateFromSchema', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`produces values valid against ${name} (200 seeds)`, () => {
      for (let seed = 0; seed < 200; seed++) {
        const value = generateFromSchema(schema, seededRng(`${name}:${seed}`));
        expect(ajv.validate(schema, value), `${JSON.stringify(value)}\n${JSON.stringify(ajv.errors)}`).toBe(true);
      }
    });
  }
});
