/**
 * `zoolab up|status|kill|restart|pause|resume|down|add-server|remove-server|set-role`: local
 * ensembles without the UI.
 *
 *   zoolab up -n 3 [--dir D] [--port-base P] [--tick-time MS] [--cfg key=value ...] [--detach] [--trace-writes]
 *
 * In the foreground, Ctrl-C (SIGINT) or SIGTERM stops every server and nothing is left running.
 * With --detach it returns once every server serves, leaving D/ensemble.json for the others.
 * The connection string goes to stdout alone, so `CS=$(zoolab up --detach --dir D)` works;
 * everything else goes to stderr.
 */
import { resolve } from 'node:path';
import { isZooLabError, ZooLabError } from '../common/errors';
import { detachedDown, detachedPause, detachedRestart, detachedSignalStop, detachedStatus, loadManifest } from './detached';
import { detachedAddServer, detachedRemoveServer, detachedSetRole } from './detached-reconfig';
import { Ensemble } from './ensemble';

export const UP_USAGE = `usage: zoolab up [-n 3] [options]
  -n, --servers N        voting servers (1, 3, 5, 7; default 3)
  --observers N          observers besides them (default 0)
  --dir D                workspace folder, kept (default: a temporary folder, removed at exit)
  --port-base P          client ports P.., quorum ports P+100.., election ports P+200..
                         (default: free ports chosen at random)
  --tick-time MS         tickTime (default 2000)
  --init-limit T         initLimit in ticks (default 10)
  --sync-limit T         syncLimit in ticks (default 5)
  --cfg key=value        a zoo.cfg line for every server (repeatable)
  --reconfig             dynamic membership (reconfigEnabled=true): servers can be added,
                         removed and made observers while the ensemble serves
  --detach               return once all serve; manage with status|kill|restart|pause|resume|down --dir D
  --trace-writes         trace every write step into each server's logs/trace.ndjson (default:
                         elections, roles, faults and sessions only; per-write events cost CPU)
  --timeout MS           how long to wait for every server to serve (default 60000)
  -q, --quiet            don't echo server logs
The environment (e.g. SERVER_JVMFLAGS="-Dkey=value") reaches every server.

usage: zoolab status|down --dir D
       zoolab kill|restart|pause|resume <id> --dir D
       zoolab add-server [--observer] --dir D       (an ensemble started with --reconfig)
       zoolab remove-server <id> --dir D
       zoolab set-role <id> participant|observer --dir D
`;

export interface UpArgs {
  servers: number;
  observers: number;
  dir: string | undefined;
  portBase: number | undefined;
  tickTimeMs: number | undefined;
  initLimit: number | undefined;
  syncLimit: number | undefined;
  cfg: Record<string, string>;
  detach: boolean;
  timeoutMs: number;
  quiet: boolean;
  reconfig: boolean;
  traceWrites: boolean;
}

function intArg(flag: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new ZooLabError('USAGE', `${flag} needs a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new ZooLabError('USAGE', `${flag} ${n}: must be ${min}..${max}`);
  return n;
}

export function parseUpArgs(args: readonly string[]): UpArgs {
  const out: UpArgs = {
    servers: 3,
    observers: 0,
    dir: undefined,
    portBase: undefined,
    tickTimeMs: undefined,
    initLimit: undefined,
    syncLimit: undefined,
    cfg: {},
    detach: false,
    timeoutMs: 60_000,
    quiet: false,
    reconfig: false,
    traceWrites: false,
  };
  for (let i = 0; i < args.length; i += 1) {
    const raw = args[i] as string;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const next = (): string | undefined => {
      if (inline !== undefined) return inline;
      i += 1;
      return args[i];
    };
    switch (flag) {
      case '-n':
      case '--servers':
        out.servers = intArg(flag, next(), 1, 9);
        break;
      case '--observers':
        out.observers = intArg(flag, next(), 0, 9);
        break;
      case '--dir': {
        const d = next();
        if (!d) throw new ZooLabError('USAGE', '--dir needs a folder');
        out.dir = resolve(d);
        break;
      }
      case '--port-base':
        out.portBase = intArg(flag, next(), 1, 65535 - 300);
        break;
      case '--tick-time':
        out.tickTimeMs = intArg(flag, next(), 1, 600_000);
        break;
      case '--init-limit':
        out.initLimit = intArg(flag, next(), 1, 10_000);
        break;
      case '--sync-limit':
        out.syncLimit = intArg(flag, next(), 1, 10_000);
        break;
      case '--cfg': {
        const kv = next();
        const k = kv?.indexOf('=') ?? -1;
        if (kv === undefined || k <= 0) throw new ZooLabError('USAGE', '--cfg needs key=value');
        out.cfg[kv.slice(0, k).trim()] = kv.slice(k + 1).trim();
        break;
      }
      case '--detach':
        out.detach = true;
        break;
      case '--timeout':
        out.timeoutMs = intArg(flag, next(), 1000, 3_600_000);
        break;
      case '-q':
      case '--quiet':
        out.quiet = true;
        break;
      case '--reconfig':
        out.reconfig = true;
        break;
      case '--trace-writes':
        out.traceWrites = true;
        break;
      default:
        throw new ZooLabError('USAGE', `unknown option '${raw}'`);
    }
  }
  if (out.detach && out.dir === undefined) throw new ZooLabError('USAGE', '--detach needs --dir D (where ensemble.json is kept)');
  // detached servers write their stdout into server.log: there is no supervisor to keep a trace
  if (out.detach && out.traceWrites) throw new ZooLabError('USAGE', '--trace-writes needs the supervisor: not with --detach');
  return out;
}

const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function up(args: UpArgs): Promise<number> {
  const ensemble = await Ensemble.start({
    servers: args.servers,
    observers: args.observers,
    dir: args.dir,
    portBase: args.portBase,
    tickTimeMs: args.tickTimeMs,
    initLimit: args.initLimit,
    syncLimit: args.syncLimit,
    cfg: args.cfg,
    reconfig: args.reconfig,
    traceWrites: args.traceWrites,
    detached: args.detach,
    waitRunning: false,
  });
  if (!args.quiet && !args.detach) {
    ensemble.on('serverLog', ({ server, lines }) => {
      for (const l of lines) err(`server.${server} | ${l}`);
    });
  }
  let lastStates = '';
  ensemble.on('ensemble', (v) => {
    const s = v.servers.map((x) => `${x.id}:${x.state}${x.state === 'running' ? `(${x.role})` : ''}`).join(' ');
    if (s !== lastStates) {
      lastStates = s;
      err(`zoolab: ${s}`);
      for (const x of v.servers) if (x.state === 'crashed' && x.lastError) err(`zoolab: server ${x.id} crashed: ${x.lastError}`);
    }
  });
  err(`zoolab: ensemble of ${args.servers}${args.observers ? ` + ${args.observers} observers` : ''} in ${ensemble.dir}`);
  try {
    await ensemble.waitForAllSettled(args.timeoutMs);
  } catch (e) {
    err(`zoolab: ${(e as Error).message}`);
    await ensemble.shutdown();
    return 1;
  }
  const failed = ensemble.view().servers.filter((s) => s.state === 'crashed');
  if (failed.length === ensemble.ids().length) {
    err('zoolab: no server could start');
    await ensemble.shutdown();
    return 1;
  }
  for (const s of failed) err(`zoolab: server ${s.id} failed to start: ${s.lastError ?? 'no reason given'} (the others keep running)`);
  process.stdout.write(`${ensemble.connectionString}\n`);
  if (args.detach) {
    ensemble.detach();
    err(`zoolab: running detached; 'zoolab status --dir ${ensemble.dir}', 'zoolab down --dir ${ensemble.dir}'`);
    return failed.length > 0 ? 1 : 0;
  }
  err(failed.length > 0 ? 'zoolab: the other servers serve; Ctrl-C stops them' : 'zoolab: all servers serve; Ctrl-C stops them');
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        err(`zoolab: ${signal} again: killing every server now`);
        ensemble.killAllNow();
        return;
      }
      stopping = true;
      err(`zoolab: ${signal}: stopping every server`);
      ensemble.shutdown().then(
        () => {
          err('zoolab: stopped');
          resolveExit(0);
        },
        (e: unknown) => {
          err(`zoolab: ${(e as Error).message}`);
          ensemble.killAllNow();
          resolveExit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGHUP', () => stop('SIGHUP'));
  });
}

function dirArg(args: readonly string[]): { dir: string; rest: string[] } {
  const rest: string[] = [];
  let dir: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const a = args[i] as string;
    if (a === '--dir') {
      dir = args[i + 1];
      i += 1;
    } else if (a.startsWith('--dir=')) dir = a.slice(6);
    else rest.push(a);
  }
  if (!dir) throw new ZooLabError('USAGE', 'needs --dir D (the folder of a detached ensemble)');
  return { dir: resolve(dir), rest };
}

function idArg(command: string, rest: readonly string[]): number {
  if (rest.length !== 1 || !/^\d+$/.test(rest[0] as string)) throw new ZooLabError('USAGE', `zoolab ${command} <server id> --dir D`);
  return Number(rest[0]);
}

export async function supervisorCli(command: string, args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(UP_USAGE);
    return 0;
  }
  try {
    switch (command) {
      case 'up':
        return await up(parseUpArgs(args));
      case 'status': {
        const { dir } = dirArg(args);
        const rows = await detachedStatus(dir);
        for (const r of rows) {
          const extra = r.paused ? ' paused' : r.role ? ` ${r.role}` : '';
          process.stdout.write(`server ${r.id}\t${r.state}${extra}\tpid ${r.pid ?? '-'}\tport ${r.clientPort}${r.zxid ? `\tzxid ${r.zxid}` : ''}\n`);
        }
        return 0;
      }
      case 'kill': {
        const { dir, rest } = dirArg(args);
        const id = idArg(command, rest);
        err((await detachedSignalStop(dir, id, 'kill')) ? `zoolab: server ${id} killed` : `zoolab: server ${id} was not running`);
        return 0;
      }
      case 'restart': {
        const { dir, rest } = dirArg(args);
        const id = idArg(command, rest);
        const pid = await detachedRestart(dir, id);
        err(`zoolab: server ${id} running again (pid ${pid})`);
        return 0;
      }
      case 'pause':
      case 'resume': {
        const { dir, rest } = dirArg(args);
        const id = idArg(command, rest);
        detachedPause(dir, id, command === 'pause');
        err(`zoolab: server ${id} ${command === 'pause' ? 'paused' : 'resumed'}`);
        return 0;
      }
      case 'down': {
        const { dir } = dirArg(args);
        const n = await detachedDown(dir);
        err(`zoolab: stopped ${n} server${n === 1 ? '' : 's'}`);
        return 0;
      }
      case 'add-server': {
        const { dir, rest } = dirArg(args);
        const unknown = rest.filter((a) => a !== '--observer');
        if (unknown.length > 0) throw new ZooLabError('USAGE', `zoolab add-server [--observer] --dir D: unknown '${unknown.join(' ')}'`);
        const id = await detachedAddServer(dir, rest.includes('--observer') ? 'observer' : 'participant');
        err(`zoolab: server ${id} added`);
        process.stdout.write(`${loadManifest(dir).connectionString}\n`);
        return 0;
      }
      case 'remove-server': {
        const { dir, rest } = dirArg(args);
        const id = idArg(command, rest);
        await detachedRemoveServer(dir, id);
        err(`zoolab: server ${id} removed`);
        process.stdout.write(`${loadManifest(dir).connectionString}\n`);
        return 0;
      }
      case 'set-role': {
        const { dir, rest } = dirArg(args);
        const role = rest[1];
        if (rest.length !== 2 || !/^\d+$/.test(rest[0] as string) || (role !== 'participant' && role !== 'observer')) {
          throw new ZooLabError('USAGE', 'zoolab set-role <server id> participant|observer --dir D');
        }
        await detachedSetRole(dir, Number(rest[0]), role);
        err(`zoolab: server ${rest[0]} is now ${role === 'observer' ? 'an observer' : 'a participant'}`);
        return 0;
      }
      default:
        throw new ZooLabError('USAGE', `unknown command '${command}'`);
    }
  } catch (e) {
    if (isZooLabError(e)) {
      err(`zoolab ${command}: ${e.message}`);
      if (e.code === 'USAGE') process.stderr.write(UP_USAGE);
      return e.code === 'USAGE' ? 2 : 1;
    }
    throw e;
  }
}
