/**
 * A deterministic driver for ServerCore in tests and the simulator: fake clock, recorded
 * trace, effects collected per connection; `log` effects are made durable at once unless
 * `holdLog` is set (then `releaseLog()` does it), which is how pipelining is exercised.
 */
import type { Zxid } from '../common/ids';
import type { TraceEvent } from '../common/trace';
import type { ConnectRequest, ConnectResponse, ReplyHeader, Request, Response, TxnEntry, WatcherEvent } from '../jute/types';
import { DataTree } from '../tree/data-tree';
import { ServerCore } from './server-core';
import type { ServerCoreOptions, ServerEffect } from './types';

export type Sha1 = (b: Uint8Array) => Uint8Array;

export type Received =
  | { kind: 'connect-response'; response: ConnectResponse }
  | { kind: 'reply'; header: ReplyHeader; response: Response | null }
  | { kind: 'notification'; zxid: Zxid; event: WatcherEvent }
  | { kind: 'close'; reason: string };

export class CoreHarness {
  nowMs = 1_700_000_000_000;
  readonly traces: TraceEvent[] = [];
  readonly logged: TxnEntry[] = [];
  readonly core: ServerCore;
  holdLog = false;
  private held: TxnEntry[] = [];
  private readonly inbox = new Map<number, Received[]>();

  constructor(sha1: Sha1, options: ServerCoreOptions = {}, serverId = 1, startMs?: number, tracing = true) {
    if (startMs !== undefined) this.nowMs = startMs;
    let seed = 1;
    this.core = new ServerCore(
      {
        clock: { nowMs: () => this.nowMs },
        random: (n) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff),
        digestSha1: sha1,
        trace: { emit: (e) => this.traces.push(e) },
        tracing,
        serverId,
      },
      options,
    );
  }

  /** Carries out effects until none are left. */
  pump(): void {
    for (let round = 0; round < 10_000; round++) {
      const effects = this.core.takeEffects();
      if (effects.length === 0) return;
      for (const e of effects) this.deliver(e);
    }
    throw new Error('effects never settle');
  }

  /** Effects this harness does not carry out itself (ensemble ones), for ensemble tests. */
  readonly ensembleEffects: ServerEffect[] = [];

  private deliver(e: ServerEffect): void {
    if (e.kind === 'log') {
      this.logged.push(...e.entries);
      if (this.holdLog) this.held.push(...e.entries);
      else this.core.logged(e.entries[e.entries.length - 1]!.header.zxid);
      return;
    }
    if (e.kind === 'propose' || e.kind === 'forward' || e.kind === 'sync' || e.kind === 'revalidate') {
      this.ensembleEffects.push(e);
      return;
    }
    const list = this.inbox.get(e.connId) ?? [];
    this.inbox.set(e.connId, list);
    if (e.kind === 'connect-response') list.push({ kind: e.kind, response: e.response });
    else if (e.kind === 'reply') list.push({ kind: e.kind, header: e.header, response: e.response });
    else if (e.kind === 'notification') list.push({ kind: e.kind, zxid: e.zxid, event: e.event });
    else list.push({ kind: 'close', reason: e.reason });
  }

  releaseLog(): void {
    const last = this.held[this.held.length - 1];
    this.held = [];
    if (last) this.core.logged(last.header.zxid);
    this.pump();
  }

  /** Everything received on a connection since the last call. */
  take(connId: number): Received[] {
    const list = this.inbox.get(connId) ?? [];
    this.inbox.set(connId, []);
    return list;
  }

  connect(connId: number, over: Partial<ConnectRequest> = {}, address = '127.0.0.1'): ConnectResponse | undefined {
    this.core.openConnection(connId, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16), ...over }, address);
    this.pump();
    const got = this.inbox.get(connId) ?? [];
    const i = got.findIndex((r) => r.kind === 'connect-response');
    if (i < 0) return undefined;
    const [r] = got.splice(i, 1);
    return r!.kind === 'connect-response' ? r!.response : undefined;
  }

  send(connId: number, xid: number, request: Request | null, type?: number): void {
    this.core.request(connId, { xid, type: type ?? request!.type }, request);
    this.pump();
  }

  /** Sends and returns the reply for `xid` (the notifications before it stay in the inbox order). */
  call(connId: number, xid: number, request: Request): { err: number; response: Response | null; zxid: Zxid } {
    this.send(connId, xid, request);
    const got = this.take(connId);
    const r = got.find((x) => x.kind === 'reply' && x.header.xid === xid);
    if (!r || r.kind !== 'reply') throw new Error(`no reply for xid ${xid}: ${JSON.stringify(got, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    return { err: r.header.err, response: r.response, zxid: r.header.zxid };
  }

  advance(ms: number): void {
    this.nowMs += ms;
    this.core.tick(this.nowMs);
    this.pump();
  }
}

const LEADER_SID = 1;
const LEARNER_SID = 2;

/**
 * A leader core and a learner core wired by a synchronous stand-in for ZAB: a proposal commits
 * on both at once (unless `holdCommits`), forwards, syncs and revalidations are delivered
 * directly. For testing ServerCore's ensemble contract; ZAB itself is tested in src-main/zab.
 */
export class EnsembleHarness {
  readonly leader: CoreHarness;
  readonly learner: CoreHarness;
  holdCommits = false;
  readonly proposals: TxnEntry[] = [];
  private committedCount = 0;

  constructor(sha1: Sha1, options: ServerCoreOptions = { tickTimeMs: 2000 }) {
    const start = 1_700_000_000_000;
    this.leader = new CoreHarness(sha1, { ...options, role: 'leader', epoch: 1 }, LEADER_SID, start);
    this.learner = new CoreHarness(sha1, { ...options, role: 'learner', tree: new DataTree() }, LEARNER_SID, start);
  }

  settle(): void {
    for (let round = 0; round < 1000; round++) {
      this.leader.pump();
      this.learner.pump();
      const fromLeader = this.leader.ensembleEffects.splice(0);
      const fromLearner = this.learner.ensembleEffects.splice(0);
      if (fromLeader.length === 0 && fromLearner.length === 0 && (this.holdCommits || this.committedCount === this.proposals.length)) return;
      for (const e of fromLeader) {
        if (e.kind === 'propose') this.proposals.push(e.entry);
        else if (e.kind === 'sync') this.leader.core.synced(e.sessionId, e.cxid, this.leader.core.lastProposed);
      }
      for (const e of fromLearner) {
        if (e.kind === 'forward') this.leader.core.submitForwarded(e.sessionId, e.cxid, e.data, LEARNER_SID);
        else if (e.kind === 'sync') this.learner.core.synced(e.sessionId, e.cxid, this.leader.core.lastProposed);
        else if (e.kind === 'revalidate') this.learner.core.revalidated(e.sessionId, this.leader.core.revalidateSession(e.sessionId, e.timeoutMs, LEARNER_SID));
      }
      if (!this.holdCommits) this.commitAll();
    }
    throw new Error('ensemble never settles');
  }

  commitAll(): void {
    while (this.committedCount < this.proposals.length) {
      const e = this.proposals[this.committedCount++]!;
      this.leader.core.applyCommitted(e);
      this.learner.core.applyCommitted(e);
    }
  }

  release(): void {
    this.holdCommits = false;
    this.settle();
  }

  advance(ms: number): void {
    this.leader.nowMs += ms;
    this.learner.nowMs += ms;
    this.leader.core.tick(this.leader.nowMs);
    this.learner.core.tick(this.learner.nowMs);
    this.settle();
  }

  connectLearner(connId: number, over: Partial<ConnectRequest> = {}) {
    this.learner.core.openConnection(connId, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: new Uint8Array(16), ...over }, '10.0.0.9');
    this.settle();
    const r = this.learner.take(connId).find((x) => x.kind === 'connect-response');
    return r && r.kind === 'connect-response' ? r.response : undefined;
  }

  call(h: CoreHarness, connId: number, xid: number, req: Request) {
    h.core.request(connId, { xid, type: req.type }, req);
    this.settle();
    const r = h.take(connId).find((x) => x.kind === 'reply' && x.header.xid === xid);
    if (!r || r.kind !== 'reply') throw new Error(`no reply for ${xid}`);
    return { err: r.header.err, response: r.response, zxid: r.header.zxid };
  }
}
