// Preloaded (node --import) into an app (the command API, the query API, the
// projector) by a bench when a CPU profile is asked for. The IPC message
// 'cpu-prof:start' starts the V8 sampling profiler; 'cpu-prof:stop' stops it,
// writes <BENCH_CPU_PROF_DIR>/<app>-<pid>.cpuprofile
// and answers {written: file}, so the profile covers exactly the benchmark's
// timed window. (node's own --cpu-prof writes only on a normal exit, Nest
// re-raises SIGTERM, and Nest's shutdown hooks also claim SIGUSR2.)
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
// Only in the process the benchmark started: node:cluster workers (NODE_UNIQUE_ID
// set) inherit the preload, but their IPC channel belongs to the cluster.
if (dir && process.send && process.env.NODE_UNIQUE_ID === undefined) {
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  process.on('message', (message) => {
    if (message === 'cpu-prof:start') {
      post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: 500 }))
        .then(() => post('Profiler.start'))
        .catch((error) => console.error(`cpu profile: ${error.message}`));
      return;
    }
    if (message !== 'cpu-prof:stop') return;
    post('Profiler.stop')
      .then(({ profile }) => {
        const app = /apps\/([^/]+)\//.exec(process.argv[1] ?? '')?.[1] ?? 'app';
        const file = join(dir, `${app}-${process.pid}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        process.send?.({ written: file });
      })
      .catch((error) => console.error(`cpu profile: ${error.message}`));
  });
  // The IPC channel must not keep the API alive (a 'message' listener refs it).
  process.channel?.unref();
}
