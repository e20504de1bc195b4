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

/**
 * One event as one NDJSON line (with its newline), `server` set to `server`; it starts with
 * `{"t":`, which is how the supervisor tells it from a log line. JSON.stringify it is: a line
 * built by hand from the fields measured only ~15% cheaper once the lines are joined and
 * encoded for the pipe (~590 against ~700 ns of CPU per event, node 20; the pieces' cons
 * string is flattened at the join), and it would drop any field the vocabulary gains later.
 */
export function traceLine(e: TraceEvent, server: number): string {
  return `${JSON.stringify(e.server === server ? e : { ...e, server })}\n`;
}

/** Trace events of server `server` as NDJSON on stdout (written once per event-loop turn). */
export function stdoutTraceSink(server: number): TraceSink {
  return {
    emit(event) {
      writeStdout(traceLine(event, server));
    },
  };
}
