import type { RebuildProgress } from '@app/merchant-metrics';

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

/**
 * A rebuild's progress on stderr: a bar redrawn in place on a terminal, a
 * plain line every few seconds otherwise (logs, CI), so long work is never silent.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastLine = 0;
  private last?: RebuildProgress;
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    // Progress moves a chunk at a time (up to a minute or so); the line still shows it is alive.
    this.ticker = setInterval(() => { if (this.last) this.update(this.last); }, 1000);
    this.ticker.unref();
  }

  update(p: RebuildProgress, force = false): void {
    this.last = p;
    const now = performance.now();
    const tty = this.stream.isTTY === true;
    if (!force && now - this.lastLine < (tty ? 200 : 5000)) return;
    this.lastLine = now;
    const elapsed = (now - this.started) / 1000;
    const rate = p.done / Math.max(elapsed, 0.001);
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const eta = rate > 0 ? (p.total - p.done) / rate : Infinity;
    const filled = Math.round(fraction * WIDTH);
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(1)}%  ` +
      `${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} events  ${Math.round(rate).toLocaleString('en-US')} events/s  ` +
      `ETA ${formatSeconds(eta)}  elapsed ${formatSeconds(elapsed)}  partitions ${p.partitionsDone}/${p.partitions}${PHASE_NOTES[p.phase]}`;
    this.stream.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
  }

  end(): void {
    clearInterval(this.ticker);
    this.last = undefined;
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
