/**
 * `zoolab server <zoo.cfg>`: one ZooKeeper-compatible server process. It reads zoo.cfg and
 * myid, binds the client port, answers four-letter words, and hands client frames to the
 * request pipeline. It exits cleanly on SIGTERM/SIGINT and when the supervisor that spawned
 * it goes away (its stdin pipe or IPC channel closes), so a killed app leaves no server behind.
 */
import { accessSync, constants, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isZooLabError, ZooLabError } from '../common/errors';
import { nullTraceSink } from '../common/trace';
import type { TraceSink } from '../common/trace';
import { loadZooCfg } from './config';
import { clientEndpoint, readMyid } from './server-identity';
import type { ZooCfg } from './config';
import { ClientListener } from './client-listener';
import { answerFourLetterWord, ServerStats } from './four-letter-words';
import type { FourLetterContext } from './four-letter-words';
import { createLogger } from './log';
import { parseTraceLevel, stdoutTraceSink, TRACE_ENV, traceLevelFromEnv } from './trace-out';
import type { Logger } from './log';
import { createPipeline } from './pipeline';
import type { RequestPipeline } from './pipeline';

/** Set by the supervisor: how the server notices that its parent is gone. */
export const PARENT_WATCH_ENV = 'ZOOLAB_PARENT_WATCH';
export { TRACE_ENV, TRACE_LEVEL_ENV } from './trace-out';

export interface RunningServer {
  readonly myid: number | null;
  readonly host: string;
  readonly port: number;
  readonly cfg: ZooCfg;
  /** graceful stop; resolves when everything is closed */
  stop(reason: string): Promise<void>;
  /** a control message from the supervisor */
  control(message: unknown): void;
}

export interface StartServerOptions {
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** where trace events go instead of stdout (in-process tests); the level still applies */
  trace?: TraceSink;
}

function ensureWritableDir(dir: string, what: string, cfg: ZooCfg): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new ZooLabError('DATADIR_NOT_WRITABLE', `${what} ${dir} (from ${cfg.path}) is not a writable directory: ${(e as Error).message}`, { cause: e });
  }
}

function dirBytes(dir: string, depth = 0): number {
  if (depth > 4) return 0;
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names.slice(0, 10_000)) {
    try {
      const st = statSync(join(dir, name));
      total += st.isDirectory() ? dirBytes(join(dir, name), depth + 1) : st.size;
    } catch {
      // vanished while we looked
    }
  }
  return total;
}

/** Start one server from its zoo.cfg. Throws ZooLabError for config, myid, dataDir and port problems. */
export async function startServer(cfgPath: string, options: StartServerOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const cfg = loadZooCfg(cfgPath, env);
  const { myid } = readMyid(cfg);
  const log = options.log ?? createLogger(myid === null ? 'standalone' : `myid:${myid}`);
  for (const note of cfg.notes) log.info(`config: ${note}`);
  ensureWritableDir(cfg.dataDir, 'dataDir', cfg);
  if (cfg.dataLogDir !== cfg.dataDir) ensureWritableDir(cfg.dataLogDir, 'dataLogDir', cfg);
  const endpoint = clientEndpoint(cfg, myid);
  const stats = new ServerStats();
  // trace events as NDJSON lines on stdout (each starts with `{"t":`), beside the log lines,
  // when the supervisor asks for them; the per-write ones only at level `writes` (trace-out.ts)
  const traced = options.trace !== undefined || env[TRACE_ENV] === 'stdout';
  const trace: TraceSink = options.trace ?? (traced ? stdoutTraceSink(myid ?? 0) : nullTraceSink);
  const pipeline: RequestPipeline = await createPipeline({ cfg, myid, log, stats, trace, traceWrites: traceLevelFromEnv(env) === 'writes' });
  /** the control channel's `{"trace": level}`; everything else is the pipeline's */
  const control = (message: unknown): void => {
    const level = parseTraceLevel((message as { trace?: unknown } | null)?.trace);
    if (level !== null && traced) {
      pipeline.setTraceWrites?.(level === 'writes');
      log.info(`trace level ${level}${level === 'writes' ? ': every write step is traced' : ': per-write events off'}`);
    }
    pipeline.control?.(message);
  };

  // eslint-disable-next-line prefer-const -- assigned after the context that refers to it
  let listener: ClientListener;
  const ctx: FourLetterContext = {
    cfg,
    myid,
    stats,
    status: () => pipeline.status(),
    connections: () => listener.connections(),
    resetConnectionStats: () => {
      listener.resetConnectionStats();
      pipeline.resetConnectionStats?.();
    },
    resetServerStats: () => pipeline.resetStats?.(),
    details: () => pipeline.details?.() ?? null,
    membership: () => pipeline.membership?.() ?? null,
    startedAtMs: Date.now(),
    dirSizes: () => ({
      dataDirBytes: dirBytes(join(cfg.dataDir, 'version-2')),
      dataLogDirBytes: dirBytes(join(cfg.dataLogDir, 'version-2')),
    }),
  };
  listener = new ClientListener({
    host: endpoint.host,
    port: endpoint.port,
    packetBytesMax: cfg.packetBytesMax,
    maxClientCnxns: cfg.maxClientCnxns,
    answerFourLetterWord: (word) => answerFourLetterWord(word, ctx),
    handler: pipeline.handler,
    stats,
    log,
  });
  let bound;
  try {
    bound = await listener.listen();
  } catch (e) {
    await pipeline.stop();
    throw e;
  }
  const mode = cfg.distributed ? `quorum member ${myid} of ${cfg.servers.size}` : 'standalone';
  log.info(`serving clients on ${bound.host}:${bound.port} (${mode}, tickTime=${cfg.tickTimeMs}ms, dataDir=${cfg.dataDir}, pid ${process.pid})`);
  await pipeline.start();

  let stopping: Promise<void> | null = null;
  return {
    myid,
    host: bound.host,
    port: bound.port,
    cfg,
    control,
    stop(reason: string): Promise<void> {
      stopping ??= (async () => {
        log.info(`shutting down: ${reason}`);
        await listener.close();
        await pipeline.stop();
        log.info('shut down');
      })();
      return stopping;
    },
  };
}

const USAGE = 'usage: zoolab server <zoo.cfg>\n';

/** The process entry. Resolves with the exit code once the server has shut down. */
export async function serverMain(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0] === '-h' || args[0] === '--help') {
    process.stderr.write(USAGE);
    return args[0] === '-h' || args[0] === '--help' ? 0 : 2;
  }
  const cfgPath = args[0] as string;
  let server: RunningServer;
  try {
    server = await startServer(cfgPath);
  } catch (e) {
    const log = createLogger('startup');
    if (isZooLabError(e)) log.error(`${e.code}: ${e.message}`);
    else log.error(`unexpected failure: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }

  return new Promise<number>((resolve) => {
    let exiting = false;
    const shutdown = (reason: string, code: number): void => {
      if (exiting) return;
      exiting = true;
      // a backstop so a stuck close can never keep an orphan alive
      setTimeout(() => process.exit(code), 3000).unref();
      server.stop(reason).then(
        () => {
          process.stdin.destroy();
          resolve(code);
          // nothing else should hold the loop open; exit explicitly anyway
          setImmediate(() => process.exit(code));
        },
        () => process.exit(code),
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM', 0));
    process.on('SIGINT', () => shutdown('SIGINT', 0));
    process.on('SIGHUP', () => shutdown('SIGHUP', 0));
    const watch = process.env[PARENT_WATCH_ENV];
    if (watch === 'stdin') {
      // the supervisor holds the write end of our stdin; the kernel closes it when it dies
      process.stdin.on('end', () => shutdown('the supervisor is gone (stdin closed)', 0));
      process.stdin.on('error', () => shutdown('the supervisor is gone (stdin error)', 0));
      // the same pipe is the control channel: one JSON message per line (e.g. link faults)
      let pending = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (chunk: string) => {
        pending += chunk;
        if (pending.length > 1 << 20) pending = pending.slice(-(1 << 20));
        let nl = pending.indexOf('\n');
        while (nl !== -1) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          nl = pending.indexOf('\n');
          if (line === '') continue;
          try {
            server.control(JSON.parse(line));
          } catch (e) {
            process.stderr.write(`${new Date().toISOString()} WARN  [control] ignored a control message: ${(e as Error).message}\n`);
          }
        }
      });
    }
    if (process.channel) process.on('disconnect', () => shutdown('the supervisor is gone (IPC channel closed)', 0));
    process.on('uncaughtException', (e) => {
      process.stderr.write(`${new Date().toISOString()} ERROR [crash] ${(e.stack ?? String(e)).replace(/\n/g, ' ⏎ ')}\n`);
      process.exit(70);
    });
  });
}
