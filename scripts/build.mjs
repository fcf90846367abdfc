// Compiles the apps, the libraries and the migrations to plain JavaScript in dist/, which is what
// `npm start`, the Dockerfile and the tests' app processes run: a process that compiles its own
// TypeScript as it loads (@swc-node/register) carries TypeScript and swc in a loader thread, about
// 230 MiB of RSS beside the app's own 60 (docs/decisions/0014-compiled-apps.md).
//
//   node scripts/build.mjs            compile when a source is newer than the last build
//   node scripts/build.mjs --force    compile everything
//
// Each .ts file of apps/*/src, libs/*/src and migrations (tests and test helpers left out) becomes a
// .js file with its source map at the same path under dist/, compiled by @swc/core as swc-node
// compiles it from tsconfig.json (ES2023, legacy decorators with their metadata, class fields
// defined); `@app/NAME` imports become relative imports of dist/libs/NAME/src/index.js. The query
// API's dashboard files are copied beside it.
import { transform } from '@swc/core';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const distDir = join(repoRoot, 'dist');
const STAMP = join(distDir, '.build-stamp.json');
/** Copied as they are: files an app reads at run time beside its code. */
const ASSETS = ['apps/query-api/dashboard'];
const TEST_FILE = /\.(spec|int-spec|e2e-spec)\.ts$|\.d\.ts$/;

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      // Test helpers stay out of what production runs.
      if (entry.name !== 'testing' && entry.name !== 'node_modules') yield* sources(path);
    } else if (entry.name.endsWith('.ts') && !TEST_FILE.test(entry.name)) {
      yield path;
    }
  }
}

function roots() {
  const list = [join(repoRoot, 'migrations')];
  for (const group of ['apps', 'libs']) {
    for (const name of readdirSync(join(repoRoot, group))) {
      const src = join(repoRoot, group, name, 'src');
      if (existsSync(src)) list.push(src);
    }
  }
  return list;
}

function allSources() {
  return roots().flatMap((root) => [...sources(root)]);
}

function newestInput(files) {
  let newest = statSync(join(repoRoot, 'tsconfig.json')).mtimeMs;
  newest = Math.max(newest, statSync(fileURLToPath(import.meta.url)).mtimeMs);
  for (const file of files) newest = Math.max(newest, statSync(file).mtimeMs);
  for (const asset of ASSETS) for (const file of walk(join(repoRoot, asset))) newest = Math.max(newest, statSync(file).mtimeMs);
  return newest;
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

const ALIAS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])@app\/([a-z0-9-]+)\2/g;

/** `@app/NAME` as a relative import of dist/libs/NAME/src/index.js from `outFile`. */
function rewriteAliases(code, outFile) {
  return code.replace(ALIAS, (_match, lead, quote, name) => {
    let target = relative(dirname(outFile), join(distDir, 'libs', name, 'src', 'index.js')).split(sep).join('/');
    if (!target.startsWith('.')) target = `./${target}`;
    return `${lead}${quote}${target}${quote}`;
  });
}

const SWC_OPTIONS = {
  sourceMaps: true,
  module: { type: 'es6', strict: false },
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
    keepClassNames: true,
  },
};

async function compile(file, into) {
  const outFile = join(into, relative(repoRoot, file)).replace(/\.ts$/, '.js');
  const output = await transform(readFileSync(file, 'utf8'), {
    ...SWC_OPTIONS,
    filename: file,
    sourceFileName: relative(dirname(outFile), file).split(sep).join('/'),
  });
  mkdirSync(dirname(outFile), { recursive: true });
  const mapName = `${outFile.slice(dirname(outFile).length + 1)}.map`;
  // Relative imports are the same wherever the tree is built.
  writeFileSync(outFile, `${rewriteAliases(output.code, join(distDir, relative(into, outFile)))}\n//# sourceMappingURL=${mapName}\n`);
  if (output.map) writeFileSync(`${outFile}.map`, output.map);
}

/**
 * Compiles everything into a new tree beside dist/ and then puts it in
 * dist/'s place, so that an app starting meanwhile loads the old build or the
 * new one, never half of one. Returns how many files and how long it took.
 */
export async function build() {
  const started = performance.now();
  const files = allSources();
  const newest = newestInput(files);
  const next = `${distDir}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  // A few at a time: swc works on its own threads.
  for (let i = 0; i < files.length; i += 16) await Promise.all(files.slice(i, i + 16).map((file) => compile(file, next)));
  for (const asset of ASSETS) cpSync(join(repoRoot, asset), join(next, asset), { recursive: true });
  writeFileSync(join(next, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(next, '.build-stamp.json'), JSON.stringify({ newestInputMs: newest, files: files.length }));
  const old = `${distDir}.old-${process.pid}`;
  if (existsSync(distDir)) renameSync(distDir, old);
  renameSync(next, distDir);
  rmSync(old, { recursive: true, force: true });
  return { files: files.length, ms: performance.now() - started };
}

/** Whether dist/ holds a build of the sources as they are now. */
export function upToDate() {
  if (!existsSync(STAMP)) return false;
  const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  const files = allSources();
  return stamp.files === files.length && stamp.newestInputMs >= newestInput(files);
}

/** Builds unless dist/ is up to date; safe to call from every process that starts an app. */
export async function ensureBuilt() {
  if (upToDate()) return { files: 0, ms: 0, built: false };
  return { ...(await build()), built: true };
}

/** The compiled entry point of a TypeScript source path such as apps/projector/src/main.ts. */
export function builtEntry(entry) {
  return join(distDir, entry.replace(/\.ts$/, '.js'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = process.argv.includes('--force') ? { ...(await build()), built: true } : await ensureBuilt();
  console.log(result.built ? `built dist/: ${result.files} files in ${Math.round(result.ms)} ms` : 'dist/ is up to date');
}
