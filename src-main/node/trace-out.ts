/**
 * A server's trace output: events as NDJSON lines on stdout (for the supervisor), and the trace
 * level that says whether the per-write events are made at all.
 *
 * Levels: `lifecycle` emits what happens rarely (server start/role, election, ZAB sync, faults,
 * sessions, snapshots, reconfig); `writes` adds every step of every request (received,
 * forwarded, proposal, txn-log append, fsync, ack, quorum, commit, applied, replied, read,
 * watch fired: ~25 events per write on 3 servers). The supervisor picks the level at spawn
 * (`ZOOLAB_TRACE_LEVEL`) and changes it over the control channel (`{"trace":"writes"}`,
 * `{"trace":"lifecycle"}`): per-write tracing costs a server 15–20% of its CPU under load, so
 * it is on only while someone watches.
 */
import { nullTraceSink } from '../common/trace';
import type { TraceEvent, TraceSink } from '../common/trace';
import { writeStdout } from './stdout-lines';

/** Set by the supervisor: `stdout` makes the server write its trace events there as NDJSON. */
export const TRACE_ENV = 'ZOOLAB_TRACE';
/** Set by the supervisor with TRACE_ENV: the level to start with (default `writes`). */
export const TRACE_LEVEL_ENV = 'ZOOLAB_TRACE_LEVEL';

export type TraceLevel = 'writes' | 'lifecycle';

export function parseTraceLevel(value: unknown): TraceLevel | null {
  return value === 'writes' || value === 'lifecycle' ? value : null;
}

/** The level a server starts with: `writes` unless the environment says `lifecycle`. */
export function traceLevelFromEnv(env: NodeJS.ProcessEnv): TraceLevel {
  return parseTraceLevel(env[TRACE_LEVEL_ENV]) ?? 'writes';
}

/** Whether the per-write trace events are made: asked for (default yes), and a sink to take them. */
export function traceWritesOf(deps: { trace: TraceSink }, on: boolean | undefined): boolean {
  return deps.trace !== nullTraceSink && (on ?? true);
}

// what JSON.stringify escapes in a string (quotes, backslash, control characters, lone surrogates)
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function jsonValue(v: unknown): string {
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? `${v}` : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v) ?? 'null';
}

/**
 * One event as one NDJSON line (with its newline), `server` set to `server`. Built by hand: it
 * parses to what JSON.stringify would give (same fields, same values, undefined fields left
 * out) at about half the cost per event (bench in trace-out.test.ts's note).
 */
export function traceLine(e: TraceEvent, server: number): string {
  let s = `{"t":${jsonValue(e.t)},"kind":${jsonString(e.kind)},"server":${server}`;
  if (e.epoch !== undefined) s += `,"epoch":${jsonValue(e.epoch)}`;
  if (e.zxid !== undefined) s += `,"zxid":${jsonValue(e.zxid)}`;
  if (e.session !== undefined) s += `,"session":${jsonValue(e.session)}`;
  if (e.xid !== undefined) s += `,"xid":${jsonValue(e.xid)}`;
  if (e.peer !== undefined) s += `,"peer":${jsonValue(e.peer)}`;
  if (e.op !== undefined) s += `,"op":${jsonValue(e.op)}`;
  if (e.path !== undefined) s += `,"path":${jsonValue(e.path)}`;
  const d = e.detail;
  if (d !== undefined) {
    if (d === null || typeof d !== 'object') s += `,"detail":${jsonValue(d)}`;
    else {
      let body = '';
      for (const k in d) {
        const v = d[k];
        if (v === undefined) continue;
        body += `${body === '' ? '' : ','}${jsonString(k)}:${jsonValue(v)}`;
      }
      s += `,"detail":{${body}}`;
    }
  }
  return `${s}}\n`;
}

/** Trace events of server `server` as NDJSON on stdout (written once per event-loop turn). */
export function stdoutTraceSink(server: number): TraceSink {
  return {
    emit(event) {
      writeStdout(traceLine(event, server));
    },
  };
}
