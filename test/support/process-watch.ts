import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const probeScript = fileURLToPath(new URL('./liveness-probe.mjs', import.meta.url));

/** Resident memory of a process, in MiB, from /proc: `VmRSS` now, or `VmHWM`, its peak so far. */
export function residentMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** One Prometheus sample's value from a /metrics text, or undefined when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (wanted.length === 0 && line.startsWith(`${name} `)) return Number(line.slice(name.length + 1).trim());
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf('}');
    const present = line.slice(name.length + 1, close).split(',');
    if (wanted.every((w) => present.includes(w))) return Number(line.slice(close + 1).trim());
  }
  return undefined;
}

export interface AppWatchReport {
  /** Largest RSS sampled (MiB); /proc's VmHWM gives the true peak. */
  peakRssMiB: number;
  /** Polls of /health/live, and the slowest answer (ms), timed by a probe process of its own. */
  livePolls: number;
  slowestLiveMs: number;
  /** Polls of /health/details that said NATS was not connected, after it first was. */
  natsDownPolls: number;
  /** Longest event-loop delay the app itself measured (prom-client's nodejs_eventloop_lag_max_seconds, reset at each scrape), in ms. */
  peakEventLoopLagMs: number;
  /** Largest value seen of the metric watched (undefined when never present). */
  peakMetric?: number;
  failures: string[];
}

/**
 * Watches an app process while a test works it hard: a probe process polls
 * `/health/live` every 100 ms and keeps the slowest answer; from here, RSS
 * (/proc) every 100 ms and, every 500 ms, whether the admin port's
 * `/health/details` reports NATS connected, the app's own event-loop delay
 * (/metrics, there too) and optionally one more metric's value.
 */
export class AppWatch {
  private stopped = false;
  private readonly loop: Promise<void>;
  private readonly probe: ChildProcess;
  private readonly probed: Promise<{ polls: number; slowestMs: number; failures: string[] }>;
  private readonly report: AppWatchReport = {
    peakRssMiB: 0, livePolls: 0, slowestLiveMs: 0, natsDownPolls: 0, peakEventLoopLagMs: 0, failures: [],
  };
  private stopping?: Promise<AppWatchReport>;

  constructor(
    private readonly pid: number,
    private readonly url: string,
    private readonly adminUrl: string,
    private readonly metric?: { name: string; labels: Record<string, string> },
  ) {
    this.probe = spawn(process.execPath, [probeScript, `${url}/health/live`, '100'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    this.probe.stdout!.on('data', (chunk) => (out += chunk));
    this.probed = new Promise((resolve, reject) => {
      this.probe.once('error', reject);
      this.probe.once('close', () => {
        try {
          resolve(JSON.parse(out));
        } catch {
          reject(new Error(`the liveness probe printed ${JSON.stringify(out)}`));
        }
      });
    });
    this.loop = this.run();
  }

  stop(): Promise<AppWatchReport> {
    this.stopping ??= (async () => {
      this.stopped = true;
      await this.loop;
      this.probe.stdin!.end();
      const probed = await this.probed;
      this.report.livePolls = probed.polls;
      this.report.slowestLiveMs = probed.slowestMs;
      this.report.failures.push(...probed.failures.map((f) => `/health/live: ${f}`));
      return this.report;
    })();
    return this.stopping;
  }

  private async run(): Promise<void> {
    let natsSeen = false;
    // The event-loop delay is the largest since the last scrape: a scrape first, so that only delays from now on count.
    await fetch(`${this.adminUrl}/metrics`, { signal: AbortSignal.timeout(10_000) }).then((res) => res.arrayBuffer(), () => undefined);
    for (let round = 0; !this.stopped; round++) {
      const r = this.report;
      try {
        r.peakRssMiB = Math.max(r.peakRssMiB, residentMiB(this.pid));
      } catch (error) {
        r.failures.push(`process ${this.pid} is gone: ${(error as Error).message}`);
        return;
      }
      if (round % 5 === 0) {
        try {
          const details = (await (await fetch(`${this.adminUrl}/health/details`, { signal: AbortSignal.timeout(10_000) })).json()) as { nats?: boolean };
          if (details.nats) natsSeen = true;
          else if (natsSeen) r.natsDownPolls++;
          const text = await (await fetch(`${this.adminUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
          r.peakEventLoopLagMs = Math.max(r.peakEventLoopLagMs, 1000 * (metricValue(text, 'nodejs_eventloop_lag_max_seconds', {}) ?? 0));
          const value = this.metric && metricValue(text, this.metric.name, this.metric.labels);
          if (value !== undefined) r.peakMetric = Math.max(r.peakMetric ?? value, value);
        } catch (error) {
          r.failures.push(`/health/details or /metrics: ${(error as Error).message}`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
