// Polls a URL every INTERVAL ms from a process of its own, so that what the
// test process itself is busy with (appending a backlog, its own garbage
// collection) does not count against the app being timed. Prints one JSON
// line {polls, slowestMs, failures} when stdin closes.
// Usage: node liveness-probe.mjs URL INTERVAL_MS
const [url, interval = '100'] = process.argv.slice(2);
let polls = 0;
let slowestMs = 0;
const failures = [];
let stopped = false;

process.stdin.on('data', () => undefined);
process.stdin.on('end', () => { stopped = true; });

while (!stopped) {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    if (res.status !== 200) failures.push(`answered ${res.status}`);
  } catch (error) {
    failures.push(error.message);
  }
  polls++;
  slowestMs = Math.max(slowestMs, performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, Number(interval)));
}
process.stdout.write(`${JSON.stringify({ polls, slowestMs, failures: failures.slice(0, 10) })}\n`);
