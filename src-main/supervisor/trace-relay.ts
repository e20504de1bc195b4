/**
 * The Ensemble's event hub and trace relay: its listeners (`ensemble`, `serverLog`, `trace`),
 * the batched delivery of server log lines and trace events, the bounded ring of recent trace
 * events (request stories are read from it), and the trace level (traceWrites) every server is
 * told: on while a `trace` listener is subscribed, step mode is on, or it was asked for.
 */
import type { EnsembleView } from '../api/contract';
import { limits } from '../common/limits';
import type { TraceEvent } from '../common/trace';
import type { ServerProcess } from './server-process';
import { requestStory } from './trace-story';

export interface EnsembleEvents {
  ensemble: EnsembleView;
  serverLog: { server: number; lines: string[] };
  trace: TraceEvent[];
}

export type EnsembleListener<E extends keyof EnsembleEvents> = (payload: EnsembleEvents[E]) => void;

/** What the relay asks of its ensemble. */
export interface TraceRelayHost {
  /** whether step mode is on (it needs per-write tracing) */
  stepping(): boolean;
  /** every server process, to tell them the trace level */
  procs(): Iterable<ServerProcess>;
}

export class TraceRelay {
  readonly listeners = {
    ensemble: new Set<EnsembleListener<'ensemble'>>(),
    serverLog: new Set<EnsembleListener<'serverLog'>>(),
    trace: new Set<EnsembleListener<'trace'>>(),
  };
  /** the most recent trace events of every server, oldest first, bounded */
  /** newest last; a server's line stays unparsed until something reads it */
  private readonly traceRing: (TraceEvent | string)[] = [];
  private pendingTrace: TraceEvent[] = [];
  private readonly pendingLogs = new Map<number, string[]>();
  private logTimer: NodeJS.Timeout | null = null;
  /** per-write tracing asked for explicitly (option or setTraceWrites) */
  private traceWritesAsked: boolean;

  constructor(
    private readonly host: TraceRelayHost,
    /** batch window for serverLog and trace events */
    private readonly batchMs: number,
    traceWrites: boolean,
  ) {
    this.traceWritesAsked = traceWrites;
  }

  /** Listen; a `trace` listener turns per-write tracing on until the last one unsubscribes. */
  on<E extends keyof EnsembleEvents>(event: E, listener: EnsembleListener<E>): () => void {
    const set = this.listeners[event] as Set<EnsembleListener<E>>;
    set.add(listener);
    if (event === 'trace') this.syncTraceLevel();
    return () => {
      const had = set.delete(listener);
      if (event === 'trace') this.syncTraceLevel();
      return had;
    };
  }

  /** see Ensemble.traceWrites */
  get traceWrites(): boolean {
    return this.traceWritesAsked || this.listeners.trace.size > 0 || this.host.stepping();
  }

  setTraceWrites(on: boolean): void {
    this.traceWritesAsked = on;
    this.syncTraceLevel();
  }

  /** tell every server the level (each ServerProcess sends only a change) */
  syncTraceLevel(): void {
    const on = this.traceWrites;
    for (const p of this.host.procs()) p.setTraceWrites(on);
  }

  queueLog(id: number, lines: string[]): void {
    if (this.listeners.serverLog.size === 0) return;
    const q = this.pendingLogs.get(id) ?? [];
    q.push(...lines);
    if (q.length > 2000) q.splice(0, q.length - 2000);
    this.pendingLogs.set(id, q);
    this.armFlush();
  }

  /** One client request's story (session id in hex, xid) from the retained trace. */
  requestStory(session: string, xid: number): TraceEvent[] {
    return requestStory(this.traceEvents(), session, xid);
  }

  /** Trace events kept in memory (bounded by limits.traceEventsRetainedMax), oldest first. */
  traceEvents(): readonly TraceEvent[] {
    const max = limits.traceEventsRetainedMax;
    const ring = this.traceRing;
    const from = Math.max(0, ring.length - max);
    const out: TraceEvent[] = [];
    for (let i = from; i < ring.length; i += 1) {
      let e = ring[i] as TraceEvent | string;
      if (typeof e === 'string') {
        const parsed = parseTraceLine(e);
        if (parsed === null) continue;
        ring[i] = e = parsed;
      }
      out.push(e);
    }
    return out;
  }

  /** a server's trace line: kept as text until read, parsed now only for listeners */
  queueTraceLine(line: string): void {
    if (this.listeners.trace.size === 0) {
      const max = limits.traceEventsRetainedMax;
      this.traceRing.push(line);
      if (this.traceRing.length >= 2 * max) this.traceRing.splice(0, this.traceRing.length - max);
      return;
    }
    const e = parseTraceLine(line);
    if (e !== null) this.queueTrace([e]);
  }

  queueTrace(events: TraceEvent[]): void {
    const max = limits.traceEventsRetainedMax;
    // trimmed when twice the bound, not at every event: cutting the head of a 20,000-event
    // array per event was most of this process's CPU under a traced write load
    for (const e of events) this.traceRing.push(e);
    if (this.traceRing.length >= 2 * max) this.traceRing.splice(0, this.traceRing.length - max);
    if (this.listeners.trace.size === 0) return;
    for (const e of events) this.pendingTrace.push(e);
    if (this.pendingTrace.length >= 2 * max) this.pendingTrace.splice(0, this.pendingTrace.length - max);
    this.armFlush();
  }

  private armFlush(): void {
    if (this.logTimer) return;
    this.logTimer = setTimeout(() => {
      this.logTimer = null;
      this.flush();
    }, this.batchMs);
    this.logTimer.unref();
  }

  /** Deliver what is pending now: the trace batch, then each server's log lines. */
  flush(): void {
    if (this.pendingTrace.length > 0) {
      // servers' clocks are the same machine's clock: order by time, then by server
      const pending = this.pendingTrace.length > limits.traceEventsRetainedMax ? this.pendingTrace.slice(-limits.traceEventsRetainedMax) : this.pendingTrace;
      const batch = pending.sort((a, b) => a.t - b.t || a.server - b.server);
      this.pendingTrace = [];
      for (const l of this.listeners.trace) l(batch);
    }
    for (const [server, lines] of this.pendingLogs) {
      if (lines.length === 0) continue;
      for (const l of this.listeners.serverLog) l({ server, lines });
    }
    this.pendingLogs.clear();
  }

  /** Stop the batch timer (shutdown, detach); what is pending stays until the next flush. */
  cancelTimer(): void {
    if (this.logTimer) clearTimeout(this.logTimer);
  }
}

function parseTraceLine(line: string): TraceEvent | null {
  try {
    return JSON.parse(line) as TraceEvent;
  } catch {
    return null;
  }
}
