/**
 * The trace level on real servers (three quorum members in this process, real sockets on
 * 127.0.0.1): at `lifecycle` elections and sessions are traced and no write step is; the
 * control message `{"trace":"writes"}` turns every write step on, `lifecycle` off again.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../client/index';
import type { ZkClient } from '../client/index';
import type { TraceEvent, TraceKind } from '../common/trace';
import { freePorts } from '../../test/support/ports';
import type { PortLease } from '../../test/support/ports';
import type { Logger } from './log';
import { startServer } from './server-main';
import type { RunningServer } from './server-main';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** every per-write step (trace-out.ts level `writes`) */
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
  'read.local',
  'watch.fired',
]);

async function until(what: string, ok: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('trace level: three quorum members in this process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-trace-level-'));
  let lease: PortLease | null = null;
  const servers: RunningServer[] = [];
  let client: ZkClient | null = null;
  afterAll(async () => {
    await client?.close().catch(() => {});
    await Promise.all(servers.map((s) => s.stop('test done')));
    lease?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lifecycle: elections and sessions, no write step; {"trace":"writes"}: every step; lifecycle again: none', async () => {
    lease = await freePorts(9);
    const port = (i: number): number => lease?.ports[i] as number;
    const ids = [1, 2, 3];
    const serverLines = ids.map((id) => `server.${id}=127.0.0.1:${port(3 + id - 1)}:${port(6 + id - 1)}`);
    const events: TraceEvent[] = [];
    for (const id of ids) {
      const dataDir = join(dir, `s${id}`);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'myid'), `${id}\n`);
      writeFileSync(join(dir, `zoo${id}.cfg`), [`tickTime=200`, 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`, `clientPort=${port(id - 1)}`, 'clientPortAddress=127.0.0.1', ...serverLines, ''].join('\n'));
    }
    lease.release(); // bound by the servers from here on
    for (const id of ids) {
      servers.push(await startServer(join(dir, `zoo${id}.cfg`), { env: { ZOOLAB_TRACE_LEVEL: 'lifecycle' }, log: quiet, trace: { emit: (e) => events.push(e) } }));
    }
    // the ACK of NEWLEADER is part of a learner's sync (lifecycle), not of a write
    const steps = (from: number): TraceEvent[] => events.slice(from).filter((e) => WRITE_STEPS.has(e.kind) && e.detail?.of !== 'NEWLEADER');
    const connect = ids.map((id) => `127.0.0.1:${port(id - 1)}`).join(',');
    client = await connectClient(connect, { sessionTimeoutMs: 10_000 }, 20_000);
    await client.create('/quiet', 'q');
    await client.getData('/quiet');
    expect(events.filter((e) => e.kind === 'election.decided').length).toBeGreaterThanOrEqual(3);
    expect(events.some((e) => e.kind === 'session.created')).toBe(true);
    expect(steps(0)).toEqual([]);

    for (const s of servers) s.control({ trace: 'writes' });
    let mark = events.length;
    await client.create('/traced', 't');
    await until('the write traced on every server', () => ids.every((id) => steps(mark).some((e) => e.kind === 'txn.applied' && e.path === '/traced' && e.server === id)), 10_000);
    const kinds = new Set(steps(mark).map((e) => e.kind));
    for (const k of ['request.received', 'zab.proposal.sent', 'zab.proposal.received', 'txnlog.append', 'txnlog.fsync.done', 'zab.ack.received', 'zab.quorum.reached', 'zab.commit.sent', 'txn.applied', 'request.replied'] as const) {
      expect(kinds, k).toContain(k);
    }

    for (const s of servers) s.control({ trace: 'lifecycle' });
    mark = events.length;
    await client.create('/quiet-again', 'q');
    await client.getData('/quiet-again');
    // a write steps event that was on its way when the level changed would have shown by now: the
    // leader emits its commit before the reply
    expect(steps(mark)).toEqual([]);
    // a fault is lifecycle: still traced
    servers[0]?.control({ faults: [] });
    expect(events.slice(mark).some((e) => e.kind === 'fault.healed')).toBe(true);
  }, 60_000);
});
