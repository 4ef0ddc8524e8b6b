// Token counts: the heap-ordered byte-pair merge (src/content/bpe.ts) gives js-tiktoken's counts
// exactly, on ordinary, Unicode, repetitive and random text; long runs are answered over HTTP.
import { describe, expect, it } from 'vitest';
import { countTokens, encoder, tokenPieces } from '../src/content/tokens';
import { startSimulatorProcess } from '../loadtest/processes';
import { KEY, post, startSimulator } from './helpers';

const SAMPLES = [
  'hello world',
  'The quick brown fox jumps over the lazy dog.',
  'naïve café 日本語のテキスト 🎉🎉 emoji',
  '   spaces   and\ttabs\n\nnewlines',
  'A'.repeat(300),
  'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo='.repeat(20),
  '{"a":[1,2,3],"b":"x"}'.repeat(30),
  'function(){return x+y;}'.repeat(40),
  'aaaaaaaaaabbbbbbbbbbaaaaaaaaaa'.repeat(10),
];

describe('token counts equal js-tiktoken', () => {
  for (const encoding of ['cl100k_base', 'o200k_base'] as const) {
    it(`${encoding}: samples and 400 random texts`, () => {
      for (const text of SAMPLES) expect(countTokens(text, encoding)).toBe(encoder(encoding).encode(text).length);
      const alphabet = 'ab AB12 .,;\n\té日🎉-_/<|>';
      let seed = 7;
      const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      for (let k = 0; k < 400; k++) {
        let text = '';
        for (let i = Math.floor(rand() * 300); i > 0; i--) text += alphabet[Math.floor(rand() * alphabet.length)];
        expect(countTokens(text, encoding)).toBe(encoder(encoding).encode(text).length);
      }
    });
  }

  it(`${'splitting'}: the same tokens, joined back into the text`, () => {
    for (const encoding of ['cl100k_base', 'o200k_base'] as const) {
      const enc = encoder(encoding);
      // js-tiktoken's pieces: tokens decoded, joined while a character is split across them.
      const reference = (text: string) => {
        const out: string[] = [];
        let pending: number[] = [];
        for (const token of enc.encode(text)) {
          pending.push(token);
          const piece = enc.decode(pending);
          if (!piece.includes('\uFFFD')) {
            out.push(piece);
            pending = [];
          }
        }
        if (pending.length) out.push(enc.decode(pending));
        return out;
      };
      for (const text of [...SAMPLES, '🎉🎉🎉 emoji 日本語', 'mixed ünïcödé and ASCII']) {
        expect(tokenPieces(text, encoding)).toEqual(reference(text));
        expect(tokenPieces(text, encoding).join('')).toBe(text);
      }
    }
  });

  it('special-token strings in user text are counted as text, not refused', () => {
    expect(countTokens('<|endoftext|>', 'cl100k_base')).toBe(encoder('cl100k_base').encode('<|endoftext|>', [], []).length);
  });
});

describe('long runs over HTTP', () => {
  it('a prompt of 200,000 repeated characters is answered with its exact count', async () => {
    const sim = await startSimulator();
    try {
      const promptTokens = async (content: string) => {
        const response = await post(sim.url, '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', {
          messages: [{ role: 'user', content }],
          max_tokens: 1,
        });
        expect(response.status).toBe(200);
        return (await response.json()).usage.prompt_tokens as number;
      };
      const unit = 'A'.repeat(8);
      expect(countTokens(unit, 'o200k_base')).toBe(1);
      // 25,000 copies of an 8-character token, each merged from the same pairs.
      expect((await promptTokens(unit.repeat(25_000))) - (await promptTokens(unit))).toBe(25_000 - 1);
    } finally {
      await sim.close();
    }
  });

  it('a prompt near the context window is counted exactly; one far past it is refused with an estimate', async () => {
    // The reference counts first: counted here they hold this process's loop (the server's too)
    // for seconds, which would race the pooled connection's keep-alive timeout.
    const framing = 6 + countTokens('user', 'o200k_base');
    const near = 'A'.repeat(8).repeat(192_000);
    const nearExact = countTokens(near, 'o200k_base') + framing;
    const far = ['A'.repeat(2_400_000), 'hello world '.repeat(200_000)].map((text) => ({ text, exact: countTokens(text, 'o200k_base') + framing }));
    const sim = await startSimulator();
    try {
      const refusal = async (content: string) => {
        const response = await post(sim.url, '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', {
          messages: [{ role: 'user', content }],
        });
        expect(response.status).toBe(400);
        const { error } = await response.json();
        expect(error.code).toBe('context_length_exceeded');
        return Number(/\((\d+) in the messages/.exec(error.message)?.[1]);
      };
      // 1.5 times gpt-4o's 128,000 window: under the counting limit, so exact (framing: 3 + 3, and the role).
      expect(await refusal(near)).toBe(nearExact);
      // One 2.4 MB run, and 2.4 MB of words: past twice the window, estimated at the rate counted so far.
      for (const { text, exact } of far) {
        const estimate = await refusal(text);
        expect(estimate).toBeGreaterThan(2 * 128_000);
        expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.05);
      }
    } finally {
      await sim.close();
    }
  }, 120000);

  it('the built server counts a long text on its worker thread: the same count, and GET / is answered meanwhile', async () => {
    const sim = await startSimulatorProcess({ SIMULATOR_API_KEY: KEY, SIMULATOR_LATENCY: 'off' });
    try {
      const content = 'A'.repeat(1_000_000);
      const exact = countTokens(content, 'o200k_base') + 6 + countTokens('user', 'o200k_base');
      let answered = 0;
      const chat = post(sim.url, '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', {
        messages: [{ role: 'user', content }],
        max_tokens: 1,
      });
      let done = false;
      void chat.finally(() => {
        done = true;
      });
      // While the count runs (0.7 s or more on one core), the server keeps answering.
      while (!done) {
        await fetch(`${sim.url}/`).then((r) => r.arrayBuffer());
        if (!done) answered++;
        await new Promise((r) => setTimeout(r, 5));
      }
      const response = await chat;
      expect(response.status).toBe(200);
      expect((await response.json()).usage.prompt_tokens).toBe(exact);
      expect(answered).toBeGreaterThan(5);
    } finally {
      await sim.stop();
    }
  }, 60000);
});
