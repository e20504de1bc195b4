/**
 * Link faults and step mode, sent to every server over its control channel: the fault table
 * every server obeys (drop or delay per link), and step mode's queue of quorum messages the
 * servers hold until released. A (re)spawned server is told both at once.
 */
import type { TraceEvent } from '../common/trace';
import { ZooLabError } from '../common/errors';
import type { HeldMessage, LinkRule } from '../node/peer-network';
import type { ServerProcess } from './server-process';

export type HeldAt = HeldMessage & { server: number };

/** What link control asks of its ensemble. */
export interface LinkControlHost {
  /** the server with this id; throws NOT_FOUND for an unknown id */
  server(id: number): ServerProcess;
  /** the server with this id, if any */
  find(id: number): ServerProcess | undefined;
  procs(): Iterable<ServerProcess>;
  ids(): number[];
  /** something a view shows changed */
  changed(): void;
  /** step mode changed: the trace level may have to follow */
  syncTraceLevel(): void;
  /** relay supervisor-made trace events (fault.set, fault.healed) */
  trace(events: TraceEvent[]): void;
}

export class LinkControl {
  /** the link fault table every server obeys */
  private faultRules: LinkRule[] = [];
  /** step mode: quorum messages the servers hold, oldest first */
  private stepping = false;
  private heldQueue: HeldAt[] = [];
  private releaseTimer: NodeJS.Timeout | null = null;

  constructor(private readonly host: LinkControlHost) {}

  // ---- a server process's control-channel events ----

  /** a server (re)spawned: tell it the fault table and step mode */
  spawned(proc: ServerProcess): void {
    if (this.faultRules.length > 0) proc.sendControl({ faults: this.faultRules });
    if (this.stepping) proc.sendControl({ step: true });
  }

  /** server `id` reports a message it holds */
  held(id: number, m: HeldMessage): void {
    // a report still in the pipe after step mode ended: the server has sent it already
    if (!this.stepping) return;
    this.heldQueue.push({ server: id, ...m });
    if (this.heldQueue.length > 100_000) this.heldQueue.shift();
    this.host.changed();
  }

  /** server `id` exited: what a dead server held is lost with it */
  exited(id: number): void {
    this.heldQueue = this.heldQueue.filter((h) => h.server !== id);
  }

  // ---- step mode ----

  /** see Ensemble.setStepMode */
  setStepMode(on: boolean): void {
    this.stepping = on;
    // step mode shows the write steps: the servers trace them before they hold the first message
    this.host.syncTraceLevel();
    if (!on) {
      this.releaseEvery(null);
      this.heldQueue = [];
    }
    for (const p of this.host.procs()) p.sendControl({ step: on });
    this.host.changed();
  }

  get stepMode(): boolean {
    return this.stepping;
  }

  heldMessages(): readonly HeldAt[] {
    return this.heldQueue;
  }

  release(count = 1): HeldAt[] {
    const out = this.heldQueue.splice(0, Math.max(0, count));
    const byServer = new Map<number, number[]>();
    for (const h of out) byServer.set(h.server, [...(byServer.get(h.server) ?? []), h.id]);
    for (const [server, ids] of byServer) this.host.find(server)?.sendControl({ release: ids });
    if (out.length > 0) this.host.changed();
    return out;
  }

  releaseEvery(intervalMs: number | null): void {
    if (this.releaseTimer) clearInterval(this.releaseTimer);
    this.releaseTimer = null;
    if (intervalMs === null) return;
    if (!(intervalMs >= 1)) throw new ZooLabError('USAGE', `release interval ${intervalMs} ms: at least 1`);
    this.releaseTimer = setInterval(() => this.release(1), intervalMs);
    this.releaseTimer.unref();
  }

  /** Stop a running releaseEvery (shutdown). */
  stopTimer(): void {
    if (this.releaseTimer) clearInterval(this.releaseTimer);
  }

  // ---- link faults ----

  faults(): readonly LinkRule[] {
    return this.faultRules;
  }

  setFaults(rules: readonly LinkRule[]): void {
    for (const r of rules) {
      for (const end of [r.from, r.to]) if (end !== '*') this.host.server(end);
      if (r.delayMs !== undefined && !(r.delayMs >= 0 && r.delayMs <= 600_000)) throw new ZooLabError('USAGE', `delay ${r.delayMs} ms: 0 to 600000`);
    }
    this.faultRules = rules.map((r) => ({ ...r }));
    for (const p of this.host.procs()) p.sendControl({ faults: this.faultRules });
    const kind = this.faultRules.length === 0 ? 'fault.healed' : 'fault.set';
    this.host.trace([{ t: Date.now(), kind, server: 0, detail: { rules: JSON.stringify(this.faultRules) } }]);
  }

  isolate(id: number): void {
    this.host.server(id);
    this.setFaults([...this.faultRules, { from: id, to: '*', drop: true }, { from: '*', to: id, drop: true }]);
  }

  partition(...sides: number[][]): void {
    const named = new Set(sides.flat());
    for (const id of named) this.host.server(id);
    const rest = this.host.ids().filter((id) => !named.has(id));
    const all = rest.length > 0 ? [...sides, rest] : sides;
    const rules: LinkRule[] = [];
    for (let i = 0; i < all.length; i += 1) {
      for (let j = 0; j < all.length; j += 1) {
        if (i === j) continue;
        for (const a of all[i] as number[]) for (const b of all[j] as number[]) rules.push({ from: a, to: b, drop: true });
      }
    }
    this.setFaults([...this.faultRules, ...rules]);
  }

  dropLink(from: number, to: number): void {
    this.setFaults([...this.faultRules, { from, to, drop: true }]);
  }

  delayLink(from: number, to: number, delayMs: number): void {
    this.setFaults([...this.faultRules, { from, to, delayMs }]);
  }
}
