// Generate mode's answer: the operation's generator (or the one an extension put in its place)
// makes a fake but wire-exact answer from the parsed request.

import type { Exchange, Next, Services } from '../pipeline/exchange';
import { settle } from '../pipeline/exchange';

export function generate({ generators }: Services): Next {
  return (x: Exchange) => {
    const operation = x.operation!;
    const replaced = generators.get(operation);
    const response = replaced ? replaced(x.parsed, x) : operation.generate(x.parsed, x);
    if (x.timing) return response; // paced: the pace stage says when it has been handed over
    return settle(response, (r) => {
      x.answered?.(r.status, Date.now());
      return r;
    });
  };
}
