import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressBar } from './progress-bar.js';

/** A stream that records what the bar writes, and a clock the test moves by hand (milliseconds). */
function setup(isTTY: boolean) {
  const written: string[] = [];
  let now = 0;
  const bar = new ProgressBar({ isTTY, write: (text: string) => written.push(text) }, () => now);
  return { bar, written, at: (ms: number) => { now = ms; } };
}

describe('ProgressBar', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows percent, events/s from the elapsed time, and the ETA at that rate', () => {
    const { bar, written, at } = setup(false);
    at(10_000);
    bar.update({ done: 50_000, total: 200_000, partitionsDone: 3, partitions: 16, phase: 'bulk' });
    bar.end();
    // 50,000 events in 10 s: 5,000 events/s; 150,000 left at that rate: 30 s; 25% of 30 cells: 7.5, drawn as 8.
    expect(written).toEqual([
      '[########......................] 25.0%  50,000/200,000 events  5,000 events/s  ETA 30 s  elapsed 10 s  partitions 3/16  (folding partitions in PostgreSQL)\n',
    ]);
  });

  it('off a terminal, writes a line at most every 5 s, unless forced', () => {
    const { bar, written, at } = setup(false);
    at(10_000);
    bar.update({ done: 50_000, total: 200_000, partitionsDone: 3, partitions: 16, phase: 'bulk' });
    at(14_999);
    bar.update({ done: 60_000, total: 200_000, partitionsDone: 4, partitions: 16, phase: 'bulk' });
    at(15_000);
    bar.update({ done: 96_000, total: 200_000, partitionsDone: 16, partitions: 16, phase: 'keys' });
    at(15_001);
    bar.update({ done: 96_000, total: 200_000, partitionsDone: 0, partitions: 16, phase: 'catch-up' }, true);
    bar.end();
    // 96,000 in 15 s: 6,400 events/s; 104,000 left: 16.25 s; 48% of 30 cells: 14.4, drawn as 14.
    expect(written.slice(1)).toEqual([
      '[##############................] 48.0%  96,000/200,000 events  6,400 events/s  ETA 16 s  elapsed 15 s  partitions 16/16  (building indexes)\n',
      '[##############................] 48.0%  96,000/200,000 events  6,400 events/s  ETA 16 s  elapsed 15 s  partitions 0/16  (catching up with new events)\n',
    ]);
  });

  it('gives long times in minutes and hours, and no ETA before the first event', () => {
    const { bar, written, at } = setup(false);
    at(5_000);
    bar.update({ done: 0, total: 1_000, partitionsDone: 0, partitions: 16, phase: 'bulk' });
    at(10_000);
    // 10,000 in 10 s: 1,000 events/s; 1,990,000 left: 1,990 s = 33.2 min.
    bar.update({ done: 10_000, total: 2_000_000, partitionsDone: 0, partitions: 16, phase: 'bulk' });
    at(100_000);
    // 10,000 in 100 s (1 min 40 s): 100 events/s; 1,090,000 left: 10,900 s = 3.03 h.
    bar.update({ done: 10_000, total: 1_100_000, partitionsDone: 1, partitions: 16, phase: 'bulk' });
    bar.end();
    expect(written).toEqual([
      '[..............................] 0.0%  0/1,000 events  0 events/s  ETA ?  elapsed 5 s  partitions 0/16  (folding partitions in PostgreSQL)\n',
      '[..............................] 0.5%  10,000/2,000,000 events  1,000 events/s  ETA 33 min  elapsed 10 s  partitions 0/16  (folding partitions in PostgreSQL)\n',
      '[..............................] 0.9%  10,000/1,100,000 events  100 events/s  ETA 3.0 h  elapsed 2 min  partitions 1/16  (folding partitions in PostgreSQL)\n',
    ]);
  });

  it('on a terminal, redraws one line in place at most every 200 ms and ends it with a newline', () => {
    const { bar, written, at } = setup(true);
    at(1_000);
    bar.update({ done: 2_000, total: 4_000, partitionsDone: 1, partitions: 2, phase: 'bulk' });
    at(1_199);
    bar.update({ done: 3_000, total: 4_000, partitionsDone: 1, partitions: 2, phase: 'bulk' });
    at(2_000);
    bar.update({ done: 4_000, total: 4_000, partitionsDone: 2, partitions: 2, phase: 'bulk' });
    bar.end();
    expect(written).toEqual([
      '\r[###############...............] 50.0%  2,000/4,000 events  2,000 events/s  ETA 1 s  elapsed 1 s  partitions 1/2  (folding partitions in PostgreSQL)\u001b[K',
      '\r[##############################] 100.0%  4,000/4,000 events  2,000 events/s  ETA 0 s  elapsed 2 s  partitions 2/2  (folding partitions in PostgreSQL)\u001b[K',
      '\n',
    ]);
  });

  it('redraws the last figures every second while a chunk takes long, so the rate falls and the ETA grows', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { bar, written, at } = setup(false);
    at(10_000);
    bar.update({ done: 50_000, total: 200_000, partitionsDone: 3, partitions: 16, phase: 'bulk' });
    at(20_000);
    vi.advanceTimersByTime(1_000);
    bar.end();
    vi.advanceTimersByTime(10_000);
    // 50,000 in 20 s: 2,500 events/s; 150,000 left: 60 s.
    expect(written.slice(1)).toEqual([
      '[########......................] 25.0%  50,000/200,000 events  2,500 events/s  ETA 60 s  elapsed 20 s  partitions 3/16  (folding partitions in PostgreSQL)\n',
    ]);
  });

  it('shows the wait for the projectors: events and partitions behind, the lag against promote\'s limit, the followers', () => {
    const { bar, written, at } = setup(false);
    at(1_000);
    bar.catchUp({ lag: { events: 1_234, seconds: 12.34, partitionsBehind: 3, storedEvents: 50_000 }, followers: 0, seconds: 3 }, 5);
    at(6_000);
    bar.catchUp({ lag: { events: 1, seconds: Infinity, partitionsBehind: 1, storedEvents: 50_000 }, followers: 1, seconds: 8.4 }, 5);
    at(11_000);
    bar.catchUp({ lag: { events: 12, seconds: 6.05, partitionsBehind: 2, storedEvents: 50_000 }, followers: 2, seconds: 95 }, 2.5);
    bar.end();
    expect(written).toEqual([
      'catching up from JetStream: 1,234 events behind in 3 partitions, lag 12.3 s (promote needs under 5 s)  waited 3 s  waiting for a projector to follow\n',
      'catching up from JetStream: 1 events behind in 1 partitions, lag ? (promote needs under 5 s)  waited 8 s  1 projector following\n',
      'catching up from JetStream: 12 events behind in 2 partitions, lag 6.0 s (promote needs under 2.5 s)  waited 2 min  2 projectors following\n',
    ]);
  });
});
