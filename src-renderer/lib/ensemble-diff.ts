/**
 * Turns two successive ensemble snapshots into the events a person wants in the log: a server
 * changed state, took a new role, got a new pid, failed with a reason, was paused. Pure.
 */
import { describeFaultDetail } from './faults';
import type { EnsembleView, ServerView } from '../../src-main/api/contract';
import { roleLabel } from './server-model';

import type { TraceEvent } from '../../src-main/common/trace';

export type LogKind = 'state' | 'role' | 'error' | 'action' | 'session' | 'watch' | 'fault' | 'log';

export interface LogEntry {
  /** ms since epoch, from the caller's clock */
  t: number;
  kind: LogKind;
  /** the server it is about; null for the ensemble as a whole */
  server: number | null;
  text: string;
  tone: 'ok' | 'bad' | 'warn' | 'idle' | 'info';
}

function stateTone(s: ServerView['state']): LogEntry['tone'] {
  return s === 'running' ? 'ok' : s === 'crashed' ? 'bad' : s === 'stopped' ? 'idle' : 'warn';
}

export function diffEnsembles(before: EnsembleView | null, after: EnsembleView | null, t: number): LogEntry[] {
  const out: LogEntry[] = [];
  if (before === null && after !== null) {
    out.push({ t, kind: 'state', server: null, tone: 'info', text: `ensemble of ${after.servers.length} in ${after.dir}` });
  }
  if (after === null) {
    if (before !== null) out.push({ t, kind: 'state', server: null, tone: 'idle', text: 'ensemble closed' });
    return out;
  }
  const old = new Map((before?.servers ?? []).map((s) => [s.id, s]));
  for (const s of [...after.servers].sort((a, b) => a.id - b.id)) {
    const p = old.get(s.id);
    if (!p || p.state !== s.state) {
      const pid = s.state === 'running' && s.pid !== null ? ` (pid ${s.pid})` : '';
      out.push({ t, kind: 'state', server: s.id, tone: stateTone(s.state), text: `${p ? `${p.state} → ` : ''}${s.state}${pid}` });
    }
    if ((p?.paused ?? false) !== (s.paused ?? false)) {
      out.push({ t, kind: 'state', server: s.id, tone: s.paused ? 'warn' : 'ok', text: s.paused ? 'paused (SIGSTOP)' : 'resumed (SIGCONT)' });
    }
    if (s.state === 'running' && s.role !== 'unknown' && (p?.role ?? 'unknown') !== s.role) {
      const from = p && p.role !== 'unknown' ? `${roleLabel(p.role)} → ` : '';
      out.push({ t, kind: 'role', server: s.id, tone: s.role === 'leader' ? 'ok' : 'info', text: `${from}${roleLabel(s.role)}` });
    }
    if (s.lastError !== null && s.lastError !== (p?.lastError ?? null)) {
      out.push({ t, kind: 'error', server: s.id, tone: 'bad', text: s.lastError });
    }
  }
  return out;
}

/** Keeps the newest `max` entries. */
export function appendBounded<T>(list: readonly T[], items: readonly T[], max: number): T[] {
  const all = list.concat(items);
  return all.length > max ? all.slice(all.length - max) : all;
}

export function matchesFilter(e: LogEntry, kinds: ReadonlySet<LogKind>, text: string): boolean {
  if (!kinds.has(e.kind)) return false;
  if (text === '') return true;
  const needle = text.toLowerCase();
  return e.text.toLowerCase().includes(needle) || (e.server !== null && `server ${e.server}`.includes(needle));
}

const watchTypes: Record<number, string> = { 1: 'NodeCreated', 2: 'NodeDeleted', 3: 'NodeDataChanged', 4: 'NodeChildrenChanged' };
function watchType(t: unknown): string {
  return typeof t === 'number' ? (watchTypes[t] ?? `type ${t}`) : String(t ?? '');
}

/**
 * The trace events a person wants in the log (sessions, watches, faults), as entries. Each
 * session event is traced by every server that applies it; `seen` keeps one entry per event.
 */
export function traceToLog(events: readonly TraceEvent[], seen: Set<string>, seenMax = 10_000, serverIds: readonly number[] = []): LogEntry[] {
  const out: LogEntry[] = [];
  for (const e of events) {
    let entry: LogEntry | null = null;
    const key = `${e.kind}:${e.session ?? ''}:${e.zxid ?? ''}:${e.path ?? ''}`;
    if (e.kind === 'session.created') entry = { t: e.t, kind: 'session', server: e.server, tone: 'info', text: `session ${e.session} created (timeout ${String(e.detail?.['timeoutMs'] ?? '?')} ms)` };
    else if (e.kind === 'session.closed') entry = { t: e.t, kind: 'session', server: e.server, tone: 'idle', text: `session ${e.session} closed` };
    else if (e.kind === 'session.expired') entry = { t: e.t, kind: 'session', server: e.server, tone: 'warn', text: `session ${e.session} expired: its ephemeral znodes go` };
    else if (e.kind === 'watch.fired') entry = { t: e.t, kind: 'watch', server: e.server, tone: 'info', text: `watch fired: ${watchType(e.detail?.['type'])} ${e.path ?? ''} → session ${e.session ?? '?'}` };
    else if (e.kind === 'fault.set' || e.kind === 'fault.healed') entry = { t: e.t, kind: 'fault', server: e.server, tone: e.kind === 'fault.set' ? 'bad' : 'ok', text: e.kind === 'fault.set' ? `fault injected: ${describeFaultDetail(e.detail?.['rules'], serverIds)}` : 'faults healed: every link delivers again' };
    if (!entry) continue;
    // watch events are per server and per session: keep them all; the others once per ensemble
    if (e.kind !== 'watch.fired' && !e.kind.startsWith('fault.')) {
      if (seen.has(key)) continue;
      seen.add(key);
      if (seen.size > seenMax) seen.clear();
    }
    out.push(entry);
  }
  return out;
}
