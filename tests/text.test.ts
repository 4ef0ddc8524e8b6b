import { describe, expect, it } from 'vitest';
import { generatePieces } from '../src/content/text';
import { encoder, countChatPromptTokens } from '../src/content/tokens';
import { seededRng } from '../src/random';

describe('generated text', () => {
  it('has exactly one token per piece in both encodings', () => {
    const rng = seededRng('vocabulary');
    for (const encoding of ['cl100k_base', 'o200k_base'] as const) {
      for (const [count, complete] of [
        [1, false],
        [2, true],
        [17, true],
        [250, false],
        [3000, true],
        ...Array.from({ length: 200 }, (_, i) => [2 + i, true] as const),
      ] as const) {
        const pieces = generatePieces(count, rng, complete);
        expect(pieces).toHaveLength(count);
        expect(encoder(encoding).encode(pieces.join('')).length).toBe(count);
        // Each piece is itself one token, so a stream of pieces is a stream of tokens.
        for (const p of pieces.slice(0, 200)) expect(encoder(encoding).encode(p).length).toBe(1);
      }
    }
  });

  it('ends a complete answer with a full stop', () => {
    const pieces = generatePieces(40, seededRng('x'), true);
    expect(pieces.at(-1)).toBe('.');
    expect(pieces[0]).toMatch(/^[A-Z]/);
  });
});

describe('chat prompt token accounting', () => {
  // OpenAI's documented example (cookbook "How to count tokens"): these messages are 129 prompt
  // tokens for gpt-4 / gpt-3.5-turbo-0613 and 124 for gpt-4o (o200k_base).
  const cookbook = [
    { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
    { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
    { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
    { role: 'system', name: 'example_user', content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
    { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
    { role: 'user', content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
  ];

  it('matches the cookbook counts', () => {
    expect(countChatPromptTokens(cookbook, undefined, 'cl100k_base')).toBe(129);
    expect(countChatPromptTokens(cookbook, undefined, 'o200k_base')).toBe(124);
  });

  it('counts content parts, tool calls and null content without failing', () => {
    const messages = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this image?' },
          { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cats"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"result":"a cat"}' },
    ];
    const n = countChatPromptTokens(messages, undefined, 'o200k_base');
    const textOnly = countChatPromptTokens([{ role: 'user', content: 'What is in this image?' }], undefined, 'o200k_base');
    expect(n).toBeGreaterThan(textOnly + 85);
  });
});
