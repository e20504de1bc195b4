/**
 * The supervisor's trace level on real processes: with nobody watching, the servers trace
 * elections and sessions but no write step; a `trace` listener (what the app subscribes),
 * step mode or setTraceWrites turns the write steps on, and they stop when the last reason
 * goes. A server started while the level is on traces from its first write (environment).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { hex } from '../../src-main/common/ids';
import type { TraceEvent, TraceKind } from '../../src-main/common/trace';
import { Ensemble } from '../../src-main/supervisor/ensemble';
import { waitUntil } from '../support/processes';

const WRITE_STEPS: ReadonlySet<TraceKind> = new Set<TraceKind>([
  'request.received',
  'request.forwarded',
  'zab.proposal.sent',
  'zab.proposal.received',
  'txnlog.append',
  'txnlog.fsync.done',
  'zab.ack.sent',
  'zab.ack.received',
  'zab.quorum.reached',
  'zab.commit.sent',
  'zab.commit.received',
  'txn.applied',
  'request.replied',
]);
// the ACK of NEWLEADER belongs to a learner's sync, not to a write
const isStep = (e: TraceEvent): boolean => WRITE_STEPS.has(e.kind) && e.detail?.of !== 'NEWLEADER';

describe('supervisor: per-write tracing only while someone watches', () => {
  let e: Ensemble;
  let c: ZkClient;
  let n = 0;
  const write = async (): Promise<{ path: string; zxid: bigint }> => {
    n += 1;
    const path = `/level-${n}`;
    await c.create(path, 'x');
    const stat = await c.exists(path);
    return { path, zxid: stat?.czxid as bigint };
  };
  const servers = (): number[] => e.view().servers.map((s) => s.id);
  /**
   * Every server has handled every control message sent so far and written every trace event
   * from before: each answers a heal (control channel, in order) with fault.healed on its
   * stdout, after its earlier events.
   */
  const barrier = async (): Promise<void> => {
    const mark = e.traceEvents().length;
    e.heal();
    await waitUntil(() => new Set(e.traceEvents().slice(mark).filter((t) => t.kind === 'fault.healed' && t.server !== 0).map((t) => t.server)).size === servers().length, 'every server to answer a heal', 10_000);
  };
  /** a write applied on every server (srvr), then the trace events of it that reached us */
  const stepsOf = async (w: { path: string; zxid: bigint }): Promise<TraceEvent[]> => {
    await waitUntil(() => e.view().servers.every((s) => s.lastZxid !== null && BigInt(s.lastZxid) >= w.zxid), `${w.path} applied on every server`, 10_000);
    await barrier();
    return e.traceEvents().filter((t) => isStep(t) && (t.path === w.path || t.zxid === hex(w.zxid)));
  };

  beforeAll(async () => {
    e = await Ensemble.start({ servers: 3, tickTimeMs: 200, initLimit: 10, syncLimit: 5, pollIntervalMs: 50 });
    await e.waitUntil(() => e.leader() !== null && e.view().servers.every((s) => s.role === 'leader' || s.role === 'follower'), 'a settled ensemble', 20_000);
    // on the leader: a test below restarts a follower
    const leader = e.view().servers.find((s) => s.id === e.leader());
    c = await connectClient(`127.0.0.1:${leader?.clientPort}`, { sessionTimeoutMs: 10_000 }, 20_000);
  }, 60_000);
  afterAll(async () => {
    await c?.close().catch(() => {});
    await e?.shutdown();
  });

  it('nobody watching (the default): elections and sessions traced, no write step', async () => {
    expect(e.traceWrites).toBe(false);
    expect(await stepsOf(await write())).toEqual([]);
    expect(e.traceEvents().some((t) => t.kind === 'election.decided')).toBe(true);
    expect(e.traceEvents().some((t) => t.kind === 'session.created')).toBe(true);
    expect(e.traceEvents().filter(isStep)).toEqual([]);
  });

  it('a trace listener turns the write steps on (relayed to it); the last one leaving turns them off', async () => {
    const relayed: TraceEvent[] = [];
    const off = e.on('trace', (batch) => relayed.push(...batch));
    const other = e.on('trace', () => {});
    expect(e.traceWrites).toBe(true);
    await barrier();
    const w = await write();
    const kinds = new Set((await stepsOf(w)).map((t) => `${t.kind}@${t.server}`));
    const leader = e.leader() as number;
    for (const k of ['zab.proposal.sent', 'zab.quorum.reached', 'zab.commit.sent', 'txnlog.fsync.done', 'txn.applied']) expect(kinds, `${k} at the leader`).toContain(`${k}@${leader}`);
    for (const f of servers().filter((id) => id !== leader)) {
      for (const k of ['zab.proposal.received', 'txnlog.fsync.done', 'zab.ack.sent', 'zab.commit.received', 'txn.applied']) expect(kinds, `${k} at ${f}`).toContain(`${k}@${f}`);
    }
    await waitUntil(() => relayed.some((t) => t.kind === 'txn.applied' && t.path === w.path), 'the relay', 10_000);

    off();
    expect(e.traceWrites).toBe(true); // another listener still watches
    other();
    expect(e.traceWrites).toBe(false);
    await barrier();
    expect(await stepsOf(await write())).toEqual([]);
  });

  it('setTraceWrites and step mode turn them on too; a server restarted meanwhile traces its first write', async () => {
    e.setTraceWrites(true);
    const follower = e.view().servers.find((s) => s.role === 'follower')?.id as number;
    await e.restart(follower);
    await e.waitFor(follower, 'running', 30_000);
    await waitUntil(() => e.server(follower).role === 'follower', `server ${follower} following again`, 30_000);
    const w = await write();
    expect((await stepsOf(w)).some((t) => t.kind === 'txn.applied' && t.server === follower)).toBe(true);

    e.setTraceWrites(false);
    e.setStepMode(true);
    expect(e.traceWrites).toBe(true);
    e.setStepMode(false);
    expect(e.traceWrites).toBe(false);
    await barrier();
    expect(await stepsOf(await write())).toEqual([]);
  });
});
