#!/usr/bin/env node
// `npm start`: build when out/ is missing or older than the sources, then run `zoolab app`,
// which opens the Electron window when Electron can run here (its binary present or
// fetchable, a display, not CI) and otherwise serves the same UI to a browser on 127.0.0.1,
// saying why in one line. Extra arguments go to `zoolab app` (e.g. `npm start -- --web`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outputs = ['out/main/cli.js', 'out/main/electron-main.js', 'out/preload/preload.cjs', 'out/renderer/index.html'].map((p) => join(root, p));
const sources = ['src-main', 'src-renderer', 'resources', 'package.json', 'electron.vite.config.ts', 'tsconfig.base.json'].map((p) => join(root, p));
const filesMax = 20_000;

/** newest mtime under the given paths (bounded walk, skipping tests) */
function newestSource() {
  let newest = 0;
  let seen = 0;
  const stack = [...sources];
  while (stack.length > 0 && seen < filesMax) {
    const p = stack.pop();
    let s;
    try {
      s = statSync(p);
    } catch {
      continue;
    }
    seen++;
    if (s.isDirectory()) {
      for (const name of readdirSync(p)) stack.push(join(p, name));
    } else if (!p.endsWith('.test.ts')) {
      newest = Math.max(newest, s.mtimeMs);
    }
  }
  return newest;
}

function buildReason() {
  const missing = outputs.find((p) => !existsSync(p));
  if (missing) return `${missing.slice(root.length)} is missing`;
  const oldest = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  return newestSource() > oldest ? 'the sources changed since the last build' : null;
}

const reason = buildReason();
if (reason) {
  process.stdout.write(`zoolab: building (${reason})…\n`);
  const r = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('zoolab: the build failed (see above); fix it and run `npm start` again.\n');
    process.exit(r.status ?? 1);
  }
}

const child = spawn(process.execPath, [join(root, 'out/main/cli.js'), 'app', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
// forwarded even though a terminal's Ctrl-C reaches the child too: `zoolab app` takes a
// repeat within a second as the same request (a later one means "exit now")
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
