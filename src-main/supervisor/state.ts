/**
 * One server's lifecycle as a pure transition function:
 *
 *   stopped|crashed --start--> starting --serving--> running
 *   starting|running --stop|kill--> stopping --exited--> stopped
 *   starting|running --exited (not asked for)--> crashed (lastError says why)
 *   starting --giveUp(reason)--> stopping (then exited --> crashed with that reason)
 *
 * The process shell feeds it events (spawned, srvr answered, exit); the UI reads the result.
 * An event that does not apply in a state is refused with a sentence, never half-applied.
 */
import type { ServerState } from '../api/contract';

export interface ServerLifecycle {
  state: ServerState;
  pid: number | null;
  paused: boolean;
  lastError: string | null;
  /** the next exit was asked for (stop/kill); otherwise it is a crash */
  exitExpected: boolean;
  /** set by giveUp: the exit that follows is a crash with this reason */
  pendingError: string | null;
}

export type LifecycleEvent =
  | { type: 'start' }
  | { type: 'spawned'; pid: number }
  | { type: 'spawnFailed'; error: string }
  | { type: 'serving' }
  | { type: 'stop' }
  | { type: 'kill' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'giveUp'; error: string }
  | { type: 'exited'; code: number | null; signal: string | null; lastWords: string | null };

export type Transition = { ok: true; next: ServerLifecycle } | { ok: false; reason: string };

export function initialLifecycle(): ServerLifecycle {
  return { state: 'stopped', pid: null, paused: false, lastError: null, exitExpected: false, pendingError: null };
}

function refuse(s: ServerLifecycle, what: string): Transition {
  return { ok: false, reason: `cannot ${what}: the server is ${s.state}${s.paused ? ' (paused)' : ''}` };
}

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}`;
  return `exited with code ${code ?? '?'}`;
}

export function transition(s: ServerLifecycle, e: LifecycleEvent): Transition {
  const live = s.state === 'starting' || s.state === 'running';
  switch (e.type) {
    case 'start':
      if (s.state !== 'stopped' && s.state !== 'crashed') return refuse(s, 'start');
      return { ok: true, next: { state: 'starting', pid: null, paused: false, lastError: null, exitExpected: false, pendingError: null } };
    case 'spawned':
      if (s.state !== 'starting') return refuse(s, 'record a spawn');
      return { ok: true, next: { ...s, pid: e.pid } };
    case 'spawnFailed':
      if (s.state !== 'starting') return refuse(s, 'record a failed spawn');
      return { ok: true, next: { ...s, state: 'crashed', pid: null, lastError: e.error } };
    case 'serving':
      if (s.state === 'running') return { ok: true, next: s };
      if (s.state !== 'starting') return refuse(s, 'mark it running');
      return { ok: true, next: { ...s, state: 'running' } };
    case 'stop':
    case 'kill':
      if (s.state === 'stopping' && e.type === 'kill') return { ok: true, next: { ...s, exitExpected: true } };
      if (!live) return refuse(s, e.type);
      return { ok: true, next: { ...s, state: 'stopping', exitExpected: true } };
    case 'pause':
      if (!live || s.pid === null) return refuse(s, 'pause');
      if (s.paused) return { ok: false, reason: 'the server is already paused' };
      return { ok: true, next: { ...s, paused: true } };
    case 'resume':
      if (!s.paused) return { ok: false, reason: 'the server is not paused' };
      return { ok: true, next: { ...s, paused: false } };
    case 'giveUp':
      if (!live) return refuse(s, 'give up on it');
      return { ok: true, next: { ...s, state: 'stopping', exitExpected: false, pendingError: e.error } };
    case 'exited': {
      if (s.state === 'stopped' || s.state === 'crashed') return refuse(s, 'record an exit');
      const base = { pid: null, paused: false, exitExpected: false, pendingError: null };
      if (s.pendingError !== null) return { ok: true, next: { ...base, state: 'crashed', lastError: s.pendingError } };
      if (s.exitExpected) return { ok: true, next: { ...base, state: 'stopped', lastError: null } };
      const how = describeExit(e.code, e.signal);
      const lastError = e.lastWords ? `${how}: ${e.lastWords}` : how;
      return { ok: true, next: { ...base, state: 'crashed', lastError } };
    }
  }
}
