/**
 * Trace events → write paths: for each client request, the ordered steps the servers took
 * (client → its server → forward → leader → PROPOSAL → log/fsync → ACK → quorum → COMMIT →
 * applied → reply), drawn as a sequence diagram. Events are joined by (session, xid) and by
 * zxid, since a follower forwards by (session, xid) and the leader names the txn by zxid.
 * Pure: no Vue, no DOM.
 */
import type { TraceEvent, TraceKind } from '../../src-main/common/trace';

export type StepKind = 'request' | 'forward' | 'append' | 'proposal' | 'fsync' | 'ack' | 'self-ack' | 'quorum' | 'commit' | 'applied' | 'reply' | 'read';

export interface PathStep {
  t: number;
  kind: StepKind;
  /** where it happens (a mark) or where it leaves from (a message) */
  server: number;
  /** the receiver of a message; null for marks */
  to: number | null;
  label: string;
}

export interface WritePath {
  id: string;
  kind: 'write' | 'read';
  zxid: string | null;
  op: string | null;
  path: string | null;
  session: string | null;
  xid: number | null;
  /** the server the client is connected to */
  origin: number | null;
  leader: number | null;
  /** servers that take part, in id order */
  servers: number[];
  steps: PathStep[];
  /** ackers when the quorum was reached */
  quorum: number[] | null;
  /** followers that got the PROPOSAL but whose ACK never came */
  missingAcks: number[];
  firstT: number;
  replied: boolean;
}

/** ties at one timestamp are shown in protocol order */
const order: Partial<Record<TraceKind, number>> = {
  'request.received': 0,
  'read.local': 0,
  'request.forwarded': 1,
  'txnlog.append': 2,
  'zab.proposal.sent': 3,
  'zab.proposal.received': 4,
  'txnlog.fsync.done': 5,
  'zab.ack.sent': 6,
  'zab.ack.received': 7,
  'zab.quorum.reached': 8,
  'zab.commit.sent': 9,
  'zab.commit.received': 10,
  'txn.applied': 11,
  'request.replied': 12,
};

const pathKinds = new Set(Object.keys(order));

/** A txn's zxid, or null for events that are not about one client txn (NEWLEADER acks: counter 0). */
function txnZxid(e: TraceEvent): string | null {
  if (e.zxid === undefined || e.kind === 'read.local' || e.kind === 'request.forwarded') return null;
  if (e.detail?.['of'] !== undefined) return null;
  return /^0x[0-9a-f]+$/i.test(e.zxid) && (BigInt(e.zxid) & 0xffffffffn) !== 0n ? e.zxid : null;
}

/**
 * Groups events into requests. A txn's events share its zxid. A follower's forward (and a
 * local read) carries only (session, xid) — and xids repeat (createSession and the first
 * request both use 0) — so a forward joins the first txn of that session and xid that starts
 * at or after it.
 */
function groupRequests(events: readonly TraceEvent[]): TraceEvent[][] {
  const byZxid = new Map<string, TraceEvent[]>();
  const loose: TraceEvent[] = [];
  for (const e of events) {
    if (!pathKinds.has(e.kind)) continue;
    const z = txnZxid(e);
    if (z !== null) {
      const g = byZxid.get(z);
      if (g) g.push(e);
      else byZxid.set(z, [e]);
    } else if ((e.kind === 'request.forwarded' || e.kind === 'read.local') && e.session !== undefined) {
      loose.push(e);
    }
  }
  const txns = [...byZxid.values()].map((g) => {
    const withXid = g.find((e) => e.xid !== undefined);
    return { group: g, firstT: Math.min(...g.map((e) => e.t)), session: g.find((e) => e.session !== undefined)?.session, xid: withXid?.xid };
  });
  const out: TraceEvent[][] = txns.map((x) => x.group);
  const bySessionXid = new Map<string, typeof txns>();
  for (const x of [...txns].sort((a, b) => a.firstT - b.firstT)) {
    const k = `${x.session}:${x.xid}`;
    const list = bySessionXid.get(k);
    if (list) list.push(x);
    else bySessionXid.set(k, [x]);
  }
  for (const e of loose) {
    const target = e.kind === 'request.forwarded' ? bySessionXid.get(`${e.session}:${e.xid}`)?.find((x) => x.firstT >= e.t) : undefined;
    if (target) target.group.push(e);
    else out.push([e]);
  }
  return out;
}

function stepOf(e: TraceEvent, zxid: string | null): PathStep | null {
  const z = zxid ?? e.zxid ?? '';
  const peer = e.peer ?? null;
  switch (e.kind) {
    case 'request.received':
      return { t: e.t, kind: 'request', server: e.server, to: null, label: `${e.op ?? 'request'} ${e.path ?? ''}`.trim() };
    case 'read.local':
      return { t: e.t, kind: 'read', server: e.server, to: null, label: `local read: ${e.op ?? ''} ${e.path ?? ''}`.trim() };
    case 'request.forwarded':
      return { t: e.t, kind: 'forward', server: e.server, to: peer, label: 'REQUEST (forward)' };
    case 'txnlog.append':
      return { t: e.t, kind: 'append', server: e.server, to: null, label: 'txn log append' };
    case 'zab.proposal.sent':
      return { t: e.t, kind: 'proposal', server: e.server, to: peer, label: `PROPOSAL ${z}` };
    case 'txnlog.fsync.done':
      return { t: e.t, kind: 'fsync', server: e.server, to: null, label: 'fsync done' };
    case 'zab.ack.sent':
      return { t: e.t, kind: 'ack', server: e.server, to: peer, label: `ACK ${z}` };
    case 'zab.ack.received':
      return peer === e.server ? { t: e.t, kind: 'self-ack', server: e.server, to: null, label: 'own ACK' } : null;
    case 'zab.quorum.reached':
      return { t: e.t, kind: 'quorum', server: e.server, to: null, label: `quorum: ${String(e.detail?.['ackers'] ?? '')}` };
    case 'zab.commit.sent':
      return { t: e.t, kind: 'commit', server: e.server, to: peer, label: `COMMIT ${z}` };
    case 'txn.applied':
      return { t: e.t, kind: 'applied', server: e.server, to: null, label: 'applied' };
    case 'request.replied':
      return { t: e.t, kind: 'reply', server: e.server, to: null, label: `reply${e.detail?.['err'] ? ` (${String(e.detail['err'])})` : ''}` };
    default:
      return null;
  }
}

function parseAckers(text: unknown): number[] {
  return typeof text === 'string' && text !== '' ? text.split(',').map(Number).filter((n) => Number.isInteger(n)) : [];
}

/** a follower's forward comes this long before the leader's first event of the txn, at most */
const forwardLeadMs = 5_000;

/**
 * Only the events of the newest requests: one pass finds each txn's first and last time, the
 * newest `pathsMax` txns are kept with the forwards and reads around them, so a 20,000-event
 * buffer costs one cheap pass plus a few hundred events of real work per frame.
 */
function newestRequests(events: readonly TraceEvent[], pathsMax: number): TraceEvent[] {
  const span = new Map<string, { first: number; last: number }>();
  for (const e of events) {
    const z = txnZxid(e);
    if (z === null || !pathKinds.has(e.kind)) continue;
    const s = span.get(z);
    if (!s) span.set(z, { first: e.t, last: e.t });
    else {
      if (e.t < s.first) s.first = e.t;
      if (e.t > s.last) s.last = e.t;
    }
  }
  const newest = [...span.entries()].sort((a, b) => b[1].last - a[1].last).slice(0, pathsMax);
  const keep = new Set(newest.map(([z]) => z));
  const fromT = Math.min(...newest.map(([, s]) => s.first)) - forwardLeadMs;
  return events.filter((e) => {
    const z = txnZxid(e);
    return z !== null ? keep.has(z) : e.t >= fromT || keep.size === 0;
  });
}

/** The newest `pathsMax` requests found in `events` (any order), oldest first. */
export function buildWritePaths(events: readonly TraceEvent[], pathsMax = 50): WritePath[] {
  const groups = groupRequests(newestRequests(events, pathsMax));
  const paths: WritePath[] = [];
  for (const group of groups) {
    group.sort((a, b) => a.t - b.t || (order[a.kind] ?? 99) - (order[b.kind] ?? 99) || a.server - b.server || (a.peer ?? 0) - (b.peer ?? 0));
    const zxid = group.map(txnZxid).find((z) => z !== null) ?? null;
    const withOp = group.find((e) => e.op !== undefined);
    const first = group[0] as TraceEvent;
    const forwarded = group.find((e) => e.kind === 'request.forwarded');
    const proposer = group.find((e) => e.kind === 'zab.proposal.sent' || e.kind === 'zab.quorum.reached');
    const received = group.find((e) => e.kind === 'request.received' || e.kind === 'read.local');
    const quorumEvent = group.find((e) => e.kind === 'zab.quorum.reached');
    const steps = group.map((e) => stepOf(e, zxid)).filter((s): s is PathStep => s !== null);
    const proposedTo = new Set(group.filter((e) => e.kind === 'zab.proposal.sent' && e.peer !== undefined).map((e) => e.peer as number));
    // an ACK that was sent counts even if it arrived after the majority (late, not missing)
    const acked = new Set([
      ...group.filter((e) => e.kind === 'zab.ack.received' && e.peer !== undefined).map((e) => e.peer as number),
      ...group.filter((e) => e.kind === 'zab.ack.sent').map((e) => e.server),
    ]);
    const quorum = quorumEvent ? parseAckers(quorumEvent.detail?.['ackers']) : null;
    const servers = new Set<number>();
    for (const s of steps) {
      servers.add(s.server);
      if (s.to !== null) servers.add(s.to);
    }
    const isRead = zxid === null && group.some((e) => e.kind === 'read.local');
    paths.push({
      id: zxid ?? `${first.session ?? '?'}:${first.xid ?? '?'}@${first.t}`,
      kind: isRead ? 'read' : 'write',
      zxid,
      op: withOp?.op ?? null,
      path: group.find((e) => e.path !== undefined)?.path ?? null,
      session: group.find((e) => e.session !== undefined)?.session ?? null,
      xid: group.find((e) => e.xid !== undefined)?.xid ?? null,
      origin: forwarded?.server ?? received?.server ?? first.server,
      leader: proposer?.server ?? forwarded?.peer ?? null,
      servers: [...servers].sort((a, b) => a - b),
      steps,
      quorum,
      missingAcks: quorum ? [...proposedTo].filter((p) => !acked.has(p)).sort((a, b) => a - b) : [],
      firstT: first.t,
      replied: group.some((e) => e.kind === 'request.replied'),
    });
  }
  paths.sort((a, b) => a.firstT - b.firstT);
  return paths.slice(-pathsMax);
}

export interface DiagramRow {
  kind: StepKind | 'missing';
  /** lane indexes: 0 is the client, then servers in id order */
  from: number;
  /** same as `from` for a mark */
  to: number;
  label: string;
  tone: 'normal' | 'highlight' | 'bad';
}

/**
 * Rows of the sequence diagram for one path, lanes = client + `servers`. Adds the client's
 * request and the reply as arrows, and a row per follower whose ACK is missing.
 */
export function diagramRows(p: WritePath, servers: readonly number[]): DiagramRow[] {
  const lane = (id: number): number => servers.indexOf(id) + 1;
  const rows: DiagramRow[] = [];
  const what = `${p.op ?? 'request'} ${p.path ?? ''}`.trim();
  const origin = p.origin ?? p.steps[0]?.server ?? servers[0] ?? 0;
  if (!p.steps.some((s) => s.kind === 'request' && s.server === origin) && p.kind === 'write') {
    rows.push({ kind: 'request', from: 0, to: lane(origin), label: what, tone: 'normal' });
  }
  for (const s of p.steps) {
    const at = lane(s.server);
    if (s.kind === 'request') {
      rows.push(s.server === origin ? { kind: 'request', from: 0, to: at, label: what, tone: 'normal' } : { kind: 'request', from: at, to: at, label: `prep → txn ${p.zxid ?? '?'}`, tone: 'normal' });
    } else if (s.kind === 'read') {
      rows.push({ kind: 'request', from: 0, to: at, label: what, tone: 'normal' });
      rows.push({ kind: 'read', from: at, to: at, label: 'answered from its local copy', tone: 'normal' });
      rows.push({ kind: 'reply', from: at, to: 0, label: 'reply', tone: 'normal' });
    } else if (s.kind === 'reply') {
      rows.push({ kind: 'reply', from: at, to: 0, label: s.label, tone: 'normal' });
    } else if (s.kind === 'quorum') {
      const n = p.quorum?.length ?? 0;
      rows.push({ kind: 'quorum', from: at, to: at, label: `majority reached: ${n} ACK${n === 1 ? '' : 's'} (${(p.quorum ?? []).join(', ')})`, tone: 'highlight' });
      for (const m of p.missingAcks) rows.push({ kind: 'missing', from: lane(m), to: lane(m), label: 'no ACK: down, paused or cut off', tone: 'bad' });
    } else {
      rows.push({ kind: s.kind, from: at, to: s.to === null ? at : lane(s.to), label: s.label, tone: 'normal' });
    }
  }
  return rows;
}
