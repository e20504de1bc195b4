/**
 * Running zkCli and `zoolab shell` on the same input, for the zkcli-*compat tests: the real
 * Apache zkCli.sh (Debian package) and the built `zoolab shell` (or runShell in-process when the
 * build lacks it), each output normalised so that two runs compare equal when only zxids, times
 * and session ids differ.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { runShell } from '../../src-main/shell/cli';
import type { ShellIo } from '../../src-main/shell/cli';
import { runCollect, type RunResult } from '../support/processes';

export const ZKCLI = process.env.APACHE_ZKCLI ?? '/usr/share/zookeeper/bin/zkCli.sh';
const root = resolve(import.meta.dirname, '../..');
const builtCli = join(root, 'out/main/cli.js');
const runDeadlineMs = 60_000;

export type Result = RunResult;

/** Whether the built CLI carries the shell (it builds only when the whole tree compiles). */
function builtCliHasShell(): boolean {
  if (!existsSync(builtCli)) return false;
  const dir = join(root, 'out/main');
  const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.js'));
  return files.some((f) => readFileSync(join(dir, f), 'utf8').includes('JLine support is'));
}

function collector(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      cb();
    },
  });
  return { stream, text: () => text };
}

async function runZoolabInProcess(args: string[], input: string | null): Promise<Result> {
  const stdin = new PassThrough();
  const out = collector();
  const err = collector();
  const io = { stdin, stdout: out.stream, stderr: err.stream } as unknown as ShellIo;
  const done = runShell(args, io);
  if (input !== null) stdin.end(input);
  const code = await done;
  return { stdout: out.text(), stderr: err.text(), code };
}

export const useBuilt = builtCliHasShell();

export function runZoolab(args: string[], input: string | null): Promise<Result> {
  if (useBuilt) return runCollect(process.execPath, [builtCli, 'shell', ...args], input, runDeadlineMs);
  return runZoolabInProcess(args, input);
}

export function runZkCli(args: string[], input: string | null): Promise<Result> {
  // zkCli logs through SLF4J without a binding: it prints a few SLF4J lines on stderr, dropped below
  return runCollect('bash', [ZKCLI, ...args], input, runDeadlineMs, { ...process.env, ZOO_LOG_DIR: process.env.TMPDIR ?? '/tmp' });
}

export interface Normalized {
  stdout: string;
  stderr: string;
  events: string[];
  code: number;
}

// zkCli prints "\nWATCHER::" and "\nWatchedEvent …" as two separate lines from its event
// thread, so command output may land between them: each is taken out on its own.
const watcherLine = /\nWATCHER::\n/g;
const eventLine = /\n(WatchedEvent [^\n]*)\n/g;
const javaDate = /^(ctime|mtime) = \w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \S+ \d{4}$/gm;

/** Masks what legitimately differs between two runs: zxids, times, session ids. */
export function normalize(r: Result, dropConnectionEvents: boolean): Normalized {
  const events: string[] = [];
  let watchers = 0;
  let stdout = r.stdout.replace(watcherLine, () => {
    watchers += 1;
    return '';
  });
  stdout = stdout.replace(eventLine, (_m, e: string) => {
    if (!(dropConnectionEvents && e.includes('type:None'))) events.push(e);
    return '';
  });
  // every event came with its WATCHER:: line
  if (!dropConnectionEvents) events.push(`(${watchers} WATCHER:: lines)`);
  stdout = stdout
    .replace(/^(cZxid|mZxid|pZxid) = 0x[0-9a-f]+$/gm, '$1 = <zxid>')
    .replace(javaDate, '$1 = <date>')
    .replace(/^ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*$/gm, 'ephemeralOwner = <session>');
  const stderr = r.stderr
    .split('\n')
    .filter((l) => !l.startsWith('SLF4J:'))
    .join('\n');
  return { stdout, stderr, events, code: r.code };
}


const closedEvent = 'WatchedEvent state:Closed type:None path:null';
const watcherCount = /^\((\d+) WATCHER:: lines\)$/;

/**
 * zkCli's `quit` closes the session, which queues the Closed event for the event thread, then
 * exits the JVM at once: whether "WATCHER::" and "WatchedEvent state:Closed …" get printed
 * before the exit is a race between two Java threads (on a loaded machine the exit often wins,
 * and it can win between the two lines). When `reference` (a zkCli run) lost that last event,
 * `n` is compared without its final Closed event; every other event, and the Closed event
 * whenever the reference printed it, still has to match.
 */
export function withoutLostClose(n: Normalized, reference: Normalized): Normalized {
  const last = (x: Normalized): string | undefined => x.events[x.events.length - 2];
  const count = (x: Normalized): number => Number(watcherCount.exec(x.events[x.events.length - 1] ?? '')?.[1] ?? -1);
  if (last(n) !== closedEvent || last(reference) === closedEvent) return n;
  const events = n.events.slice(0, -2);
  // the reference may have printed its WATCHER:: line and lost only the event line
  const watchers = count(reference) === count(n) ? count(n) : count(n) - 1;
  return { ...n, events: [...events, `(${watchers} WATCHER:: lines)`] };
}
