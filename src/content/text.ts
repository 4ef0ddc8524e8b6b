// Generated text whose token count is known without tokenizing: every piece below is exactly one
// token in both cl100k_base and o200k_base ("Word", " word", " Word", ",", "."), and the
// tokenizers' pre-split never merges across these pieces. tests/text.test.ts proves it against
// the real encoders. One piece = one token = one stream chunk.

import type { Rng } from '../random';

const LOWER = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et ' +
  'dolore magna aliqua enim ad minim veniam quis exercitation nisi ex ea commodo consequat aute in velit esse nulla ' +
  'sint non sunt culpa qui anim id est the a of and to is that for it as with was on be by this are or from at ' +
  'which an have not can all were more one has been will their would there its also other some time into only new ' +
  'may these people first two over most after made such model cloud data system service request response token ' +
  'stream window limit value simple clear quiet bright river mountain city light water stone green blue small large ' +
  'early late common public private open close north south east west market house garden table paper letter story ' +
  'music color world school every under between through during before because while where when what how why many ' +
  'much few each both same different another final general local global quick slow warm cold'
).split(' ');

const CAPITAL = (
  'Lorem Sit Do Ut Et Ad Ex In Non Qui Anim Id Est The A Of And To Is That For It As With Was On Be By ' +
  'This Are Or From At Which An Have Not Can All Were More One Has Been Will Their Would There Its Also Other Some ' +
  'Time Into Only New May These People First Two Over Most After Made Such Model Cloud Data System Service Request ' +
  'Response Token Stream Window Limit Value Simple Clear Quiet Bright River Mountain City Light Water Stone Green ' +
  'Blue Small Large Early Late Common Public Private Open Close North South East West Market House Table Paper ' +
  'Letter Story Music Color World School Every Under Between Through During Before Because While Where When What ' +
  'How Why Many Much Few Each Both Same Different Another Final General Local Global Quick Slow Warm Cold'
).split(' ');

const SPACED_LOWER = LOWER.map((w) => ' ' + w);
const SPACED_CAPITAL = CAPITAL.map((w) => ' ' + w);

export const VOCABULARY = { lower: LOWER, capital: CAPITAL } as const;

/**
 * `count` one-token pieces forming sentences. With `complete`, the last piece is "." so the
 * text reads as a finished answer (finish_reason "stop"); otherwise it may stop mid-sentence.
 */
export function generatePieces(count: number, rng: Rng, complete = false): string[] {
  const pieces: string[] = new Array(count);
  if (count <= 0) return [];
  pieces[0] = CAPITAL[rng.int(CAPITAL.length)];
  let sentenceWords = 1;
  let sentenceLength = 5 + rng.int(10);
  let afterPunctuation = false;
  const last = complete && count >= 2 ? count - 1 : count;
  for (let i = 1; i < last; i++) {
    if (!afterPunctuation && sentenceWords >= sentenceLength) {
      pieces[i] = '.';
      afterPunctuation = true;
      sentenceWords = 0;
      sentenceLength = 5 + rng.int(10);
    } else if (!afterPunctuation && sentenceWords > 1 && rng.next() < 0.06) {
      pieces[i] = ',';
      afterPunctuation = true;
    } else {
      pieces[i] = sentenceWords === 0 ? SPACED_CAPITAL[rng.int(CAPITAL.length)] : SPACED_LOWER[rng.int(LOWER.length)];
      sentenceWords++;
      afterPunctuation = false;
    }
  }
  if (last < count) {
    // The closing '.' must follow a word: ',.' and '..' are single tokens. (pieces[0] is always a
    // word, so punctuation here is at index 1 or later.)
    const before = pieces[last - 1];
    if (before === '.' || before === ',') {
      pieces[last - 1] = pieces[last - 2] === '.' ? SPACED_CAPITAL[rng.int(CAPITAL.length)] : SPACED_LOWER[rng.int(LOWER.length)];
    }
    pieces[last] = '.';
  }
  return pieces;
}

/** A plain phrase of `words` lowercase words (for JSON string values). */
export function generatePhrase(words: number, rng: Rng): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(LOWER[rng.int(LOWER.length)]);
  return out.join(' ');
}

/** A length drawn from a normal distribution, clamped to [1, max]. */
export function drawLength(rng: Rng, mean: number, stdDev: number, max: number): number {
  const n = Math.round(mean + stdDev * rng.normal());
  return Math.max(1, Math.min(max, n));
}
