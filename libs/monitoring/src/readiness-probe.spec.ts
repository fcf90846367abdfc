import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@app/testing';
import { ReadinessProbe } from './readiness-probe.js';

/** A check whose next outcome the test sets: pass, fail, or hang until released. */
function controlledCheck() {
  let mode: 'pass' | 'fail' | 'hang' = 'pass';
  let release: (() => void) | undefined;
  const check = async () => {
    if (mode === 'fail') throw new Error('connection refused');
    if (mode === 'hang') await new Promise<void>((resolve) => (release = resolve));
    return { ready: true, details: { database: 'ok' } };
  };
  return {
    check,
    set: (next: typeof mode) => (mode = next),
    release: () => release?.(),
  };
}

describe('ReadinessProbe', () => {
  const probes: Array<ReadinessProbe<unknown>> = [];
  afterEach(async () => {
    await Promise.all(probes.splice(0).map((p) => p.stop()));
  });
  const probe = <D>(check: () => Promise<{ ready: boolean; details: D }>, intervalMs = 20, timeoutMs = 50) => {
    const p = new ReadinessProbe(check, { intervalMs, timeoutMs });
    probes.push(p as ReadinessProbe<unknown>);
    return p;
  };

  it('is not ready before its first check, and ready once a check passes', async () => {
    const c = controlledCheck();
    const p = probe(c.check);
    expect(p.last).toEqual({ ready: false, error: 'not checked yet' });
    await p.start();
    expect(p.last).toEqual({ ready: true, details: { database: 'ok' } });
    expect(p.checks).toBe(1);
  });

  it('answers the last outcome between checks, turns unavailable when a check fails, and back', async () => {
    const c = controlledCheck();
    const p = probe(c.check);
    await p.start();
    c.set('fail');
    await eventually(() => expect(p.last).toEqual({ ready: false, error: 'connection refused' }), 2000, 5);
    c.set('pass');
    await eventually(() => expect(p.ready).toBe(true), 2000, 5);
  });

  it('counts a check that does not answer in time as failed, and starts no other while it is out', async () => {
    const c = controlledCheck();
    const p = probe(c.check);
    await p.start();
    c.set('hang');
    await eventually(() => expect(p.last).toEqual({ ready: false, error: 'no answer within 50 ms' }), 2000, 5);
    const started = p.checks;
    // Several intervals and timeouts pass (200 ms: 20 + 50 a round): the hung check is still the only one.
    await new Promise((r) => setTimeout(r, 200));
    expect(p.checks).toBe(started);
    expect(p.last).toEqual({ ready: false, error: 'no answer within 50 ms' });
    c.set('pass');
    c.release();
    await eventually(() => expect(p.last).toEqual({ ready: true, details: { database: 'ok' } }), 2000, 5);
  });

  it('checks no more once stopped', async () => {
    const c = controlledCheck();
    const p = probe(c.check);
    await p.start();
    await eventually(() => expect(p.checks).toBeGreaterThanOrEqual(3), 2000, 5);
    await p.stop();
    const stoppedAt = p.checks;
    await new Promise((r) => setTimeout(r, 100));
    expect(p.checks).toBe(stoppedAt);
  });
});
