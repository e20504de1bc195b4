/**
 * `zoolab app` flags, shared by the browser shell (app-main.ts) and Electron main, plus the
 * question both ask first: can Electron run here?
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ZooLabError } from '../common/errors';

export interface AppOptions {
  /** force the browser shell even when Electron could run */
  web: boolean;
  /** web host port; 0 = a free one */
  port: number;
  /** open a browser (web) when there is a display */
  open: boolean;
  /** servers in the ensemble started at launch; 0 = start none (the start screen offers it) */
  servers: number;
  /** ensemble workspace; null = the backend's default */
  dir: string | null;
}

export const appUsage = `usage: zoolab app [--web] [--port P] [--no-open] [--servers N] [--dir D]

  --web          serve the UI to a browser on 127.0.0.1 even if Electron could run
  --port P       the web UI's port (default: a free one)
  --no-open      do not open a browser, just print the URL
  --servers N    servers to start at launch, 0 for none (default 3)
  --dir D        the ensemble's workspace folder (zoo.cfg, myid and data of each server)
`;

function intArg(flag: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new ZooLabError('USAGE', `${flag} needs a number\n${appUsage}`);
  const n = Number(value);
  if (n < min || n > max) throw new ZooLabError('USAGE', `${flag} must be from ${min} to ${max}\n${appUsage}`);
  return n;
}

/**
 * `ignoreUnknown`: Electron's command line also carries Chromium switches, which are not ours
 * to refuse.
 */
export function parseAppArgs(args: readonly string[], { ignoreUnknown = false }: { ignoreUnknown?: boolean } = {}): AppOptions {
  const o: AppOptions = { web: false, port: 0, open: true, servers: 3, dir: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    switch (flag) {
      case '--web':
        o.web = true;
        break;
      case '--no-open':
        o.open = false;
        break;
      case '--port':
        o.port = intArg('--port', value(), 0, 65535);
        break;
      case '--servers':
      case '-n':
        o.servers = intArg('--servers', value(), 0, 9);
        break;
      case '--dir': {
        const d = value();
        if (!d) throw new ZooLabError('USAGE', `--dir needs a folder\n${appUsage}`);
        o.dir = d;
        break;
      }
      default:
        if (!ignoreUnknown) throw new ZooLabError('USAGE', `unknown option '${a}'\n${appUsage}`);
    }
  }
  return o;
}

export type ElectronVerdict = { ok: true; binary: string } | { ok: false; reason: string; fetchable: boolean };

/**
 * Whether the Electron window can open, without launching or downloading anything: not in CI,
 * a display present, and the binary of the `electron` package on disk. `fetchable` says the
 * package is installed but its binary is not (a first launch could download it).
 */
export function electronVerdict(env: NodeJS.ProcessEnv, electronPackageJson: string | null, platform: NodeJS.Platform = process.platform): ElectronVerdict {
  if (env['CI'] && env['CI'] !== 'false' && env['CI'] !== '0') return { ok: false, reason: 'running in CI', fetchable: false };
  if (platform === 'linux' && !env['DISPLAY'] && !env['WAYLAND_DISPLAY']) return { ok: false, reason: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)', fetchable: false };
  if (electronPackageJson === null || !existsSync(electronPackageJson)) return { ok: false, reason: 'the electron package is not installed', fetchable: false };
  const dir = dirname(electronPackageJson);
  const pathTxt = join(dir, 'path.txt');
  if (env['ELECTRON_OVERRIDE_DIST_PATH']) {
    const bin = join(env['ELECTRON_OVERRIDE_DIST_PATH'], existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8').trim() : 'electron');
    return existsSync(bin) ? { ok: true, binary: bin } : { ok: false, reason: `no Electron binary at ${bin}`, fetchable: false };
  }
  if (!existsSync(pathTxt)) return { ok: false, reason: "Electron's binary has not been downloaded", fetchable: true };
  const bin = join(dir, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(bin) ? { ok: true, binary: bin } : { ok: false, reason: `Electron's binary is missing (${bin})`, fetchable: true };
}
