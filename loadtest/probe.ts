// A streaming probe beside the load: one client at a time sends the scenario's request with
// `stream: true` and times what azure-openai-benchmark reports: time to first token, time
// between tokens, end to end, and the status (429s are the throttled requests).

export interface ProbeSample {
  /** Seconds since the run started. */
  t: number;
  status: number;
  ttftMs?: number;
  /** Mean gap between content tokens of this answer. */
  tbtMs?: number;
  e2eMs: number;
}

export function startProbe(url: string, headers: Record<string, string>, body: object, started: number): { stop(): Promise<ProbeSample[]> } {
  const samples: ProbeSample[] = [];
  let running = true;
  const once = async () => {
    const sent = performance.now();
    const t = (Date.now() - started) / 1000;
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ ...body, stream: true }) });
    if (res.status !== 200 || !res.body) {
      await res.arrayBuffer();
      samples.push({ t, status: res.status, e2eMs: performance.now() - sent });
      return;
    }
    const arrivals: number[] = [];
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        if (/"content":"[^"]/.test(buffer.slice(0, end))) arrivals.push(performance.now());
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    }
    const ended = performance.now();
    const gaps = arrivals.slice(1).map((a, i) => a - arrivals[i]);
    samples.push({
      t,
      status: 200,
      ttftMs: arrivals.length ? arrivals[0] - sent : undefined,
      tbtMs: gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : undefined,
      e2eMs: ended - sent,
    });
  };
  const loop = (async () => {
    while (running) {
      await once().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}
