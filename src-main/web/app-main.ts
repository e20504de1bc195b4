/**
 * `zoolab app`: the ZooLab app. Opens the Electron window when Electron can run here, else
 * serves the same built renderer on 127.0.0.1 behind a per-launch token and prints the URL
 * (and opens a browser when there is a display). Runs until SIGINT/SIGTERM/SIGHUP, then stops
 * every server it started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppBackend, startLaunchEnsemble } from './app-backend';
import { electronVerdict, parseAppArgs, type AppOptions } from './app-options';
import { startWebHost } from './host';

/**
 * The build's out/ folder: this code runs from out/main/cli.js's chunks (out/main/chunks/…),
 * from out/main itself, or from source under vitest (src-main/web).
 */
function locateOut(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '..'), resolve(here, '../..'), resolve(here, '../../out')];
  return candidates.find((dir) => existsSync(join(dir, 'main', 'cli.js'))) ?? resolve(here, '../../out');
}
const outDir = locateOut();
/** the package root, where package.json's "main" names out/main/electron-main.js */
const appRoot = resolve(outDir, '..');
const rendererDir = join(outDir, 'renderer');
const electronFetchTimeoutMs = 180_000;

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const warn = (line: string): void => void process.stderr.write(`zoolab: ${line}\n`);

function electronPackageJson(): string | null {
  try {
    return createRequire(join(appRoot, 'package.json')).resolve('electron/package.json');
  } catch {
    return null;
  }
}

/**
 * Resolves on the first of SIGINT, SIGTERM, SIGHUP; another one, a second or more later,
 * exits at once. (One Ctrl-C can arrive twice: from the terminal and from a parent such as
 * `npm start` that forwards it.)
 */
function untilSignal(): Promise<NodeJS.Signals> {
  const echoWindowMs = 1_000;
  return new Promise((resolveSignal) => {
    let firstMs: number | null = null;
    const on = (signal: NodeJS.Signals) => {
      if (firstMs !== null) {
        if (Date.now() - firstMs < echoWindowMs) return;
        warn(`${signal} again: exiting without waiting for the servers to stop`);
        process.exit(130);
      }
      firstMs = Date.now();
      resolveSignal(signal);
    };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, on);
  });
}

function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', () => warn(`could not open a browser (${cmd}); open the URL above yourself`));
  child.unref();
}

function hasDisplay(): boolean {
  return process.platform !== 'linux' || Boolean(process.env['DISPLAY'] || process.env['WAYLAND_DISPLAY']);
}

async function runWebShell(options: AppOptions): Promise<number> {
  if (!existsSync(join(rendererDir, 'index.html'))) {
    warn(`the UI is not built (${rendererDir} is missing): run 'npm run build' first`);
    return 1;
  }
  const backend = createAppBackend(options);
  const host = await startWebHost({ backend, staticDir: rendererDir, port: options.port });
  const signal = untilSignal();
  say(`ZooLab is serving its UI at ${host.url}`);
  say('(the token in this URL is new at every launch; without it the page is refused)');
  if (options.open && hasDisplay()) openBrowser(host.url);
  await Promise.race([startLaunchEnsemble(backend, options.servers, say), signal]);
  say('Ctrl-C stops ZooLab and every server it started.');
  const got = await signal;
  say(`${got}: stopping every server…`);
  await host.close();
  await backend.dispose();
  say('stopped.');
  return 0;
}

async function runElectron(binary: string, args: readonly string[]): Promise<number> {
  const child = spawn(binary, [appRoot, ...args], { stdio: 'inherit' });
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => child.kill(s));
  return new Promise((resolveCode) => {
    child.on('error', (e) => {
      warn(`could not start Electron: ${e.message}`);
      resolveCode(1);
    });
    child.on('exit', (code, signal) => resolveCode(code ?? (signal ? 1 : 0)));
  });
}

export async function appMain(args: string[]): Promise<number> {
  const options = parseAppArgs(args);
  if (!options.web) {
    const pkg = electronPackageJson();
    let verdict = electronVerdict(process.env, pkg);
    if (!verdict.ok && verdict.fetchable && pkg !== null) {
      say(`${verdict.reason}: fetching it (once)…`);
      const r = spawnSync(process.execPath, [join(dirname(pkg), 'install.js')], { stdio: 'inherit', timeout: electronFetchTimeoutMs });
      verdict = r.status === 0 ? electronVerdict(process.env, pkg) : { ok: false, reason: 'fetching Electron failed', fetchable: false };
    }
    if (verdict.ok) return runElectron(verdict.binary, args);
    say(`The Electron window can't open here (${verdict.reason}); serving the browser UI instead.`);
  }
  return runWebShell(options);
}
