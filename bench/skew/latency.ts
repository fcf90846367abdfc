import { percentile } from '../support/load.js';

export interface Latency {
  p50: number;
  p99: number;
  mean: number;
  /** Timed runs (fewer than asked when the time budget ran out). */
  n: number;
}

/**
 * Runs `once` `warmup` times untimed (fewer after a quarter of the budget,
 * at least once), then up to `runs` times timed, one at a time, stopping
 * early after `budgetSeconds` of timed runs (at least 5 are made): wall
 * milliseconds per run.
 */
export async function measureLatency(once: () => Promise<unknown>, runs: number, warmup: number, budgetSeconds: number): Promise<Latency> {
  const warm = performance.now() + (budgetSeconds * 1000) / 4;
  for (let i = 0; i < warmup && (i === 0 || performance.now() < warm); i++) await once();
  const ms: number[] = [];
  const deadline = performance.now() + budgetSeconds * 1000;
  while (ms.length < runs && (ms.length < 5 || performance.now() < deadline)) {
    const t0 = performance.now();
    await once();
    ms.push(performance.now() - t0);
  }
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), mean, n: ms.length };
}
