import type { CatchUpProgress, RebuildProgress } from '@app/projections';

const WIDTH = 30;
const PHASE_NOTES: Record<RebuildProgress['phase'], string> = {
  bulk: '  (folding partitions in PostgreSQL)',
  keys: '  (building indexes)',
  'catch-up': '  (catching up with new events)',
};

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Where the bar draws: stderr, or a test's recorder. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * A rebuild's progress on stderr: a bar redrawn in place on a terminal, a
 * plain line every few seconds otherwise (logs, CI), so long work is never silent.
 */
export class ProgressBar {
  private readonly started: number;
  private lastLine = -Infinity;
  private render?: () => string;
  private readonly ticker: NodeJS.Timeout;

  /** `now` is in milliseconds; tests pass their own clock. */
  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
    // Progress moves a chunk at a time (up to a minute or so); the line still shows it is alive.
    this.ticker = setInterval(() => this.draw(false), 1000);
    this.ticker.unref();
  }

  /** The bulk phase: events folded out of those waiting, with rate, ETA and partitions. */
  update(p: RebuildProgress, force = false): void {
    this.render = () => {
      const elapsed = (this.now() - this.started) / 1000;
      const rate = p.done / Math.max(elapsed, 0.001);
      const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
      const eta = rate > 0 ? (p.total - p.done) / rate : Infinity;
      const filled = Math.round(fraction * WIDTH);
      return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(1)}%  ` +
        `${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} events  ${Math.round(rate).toLocaleString('en-US')} events/s  ` +
        `ETA ${formatSeconds(eta)}  elapsed ${formatSeconds(elapsed)}  partitions ${p.partitionsDone}/${p.partitions}${PHASE_NOTES[p.phase]}`;
    };
    this.draw(force);
  }

  /**
   * The wait for the projectors: how far the version is behind the store,
   * against promote's limit. No bar: the store keeps growing, so there is no
   * total to show a fraction of.
   */
  catchUp(p: CatchUpProgress, maxLagSeconds: number, force = false): void {
    this.render = () => {
      const lag = Number.isFinite(p.lag.seconds) ? `${p.lag.seconds.toFixed(1)} s` : '?';
      const following = p.followers === 0 ? 'waiting for a projector to follow' : `${p.followers} projector${p.followers === 1 ? '' : 's'} following`;
      return `catching up from JetStream: ${p.lag.events.toLocaleString('en-US')} events behind in ${p.lag.partitionsBehind} partitions, ` +
        `lag ${lag} (promote needs under ${maxLagSeconds} s)  waited ${formatSeconds(p.seconds)}  ${following}`;
    };
    this.draw(force);
  }

  end(): void {
    clearInterval(this.ticker);
    const drawn = this.render !== undefined;
    this.render = undefined;
    if (drawn && this.stream.isTTY) this.stream.write('\n');
  }

  private draw(force: boolean): void {
    if (!this.render) return;
    const now = this.now();
    const tty = this.stream.isTTY === true;
    if (!force && now - this.lastLine < (tty ? 200 : 5000)) return;
    this.lastLine = now;
    const line = this.render();
    this.stream.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
  }
}
