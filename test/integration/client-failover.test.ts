/**
 * Failover on real processes: a client (and the zkCli shell) connected to the leader of a
 * 3-server ZooLab ensemble moves to another server of its connection string once the leader is
 * killed (kill -9), and resumes its session there well within the session timeout: its
 * ephemeral survives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnsemble } from '../../src-main/supervisor/index';
import type { LocalEnsemble } from '../../src-main/supervisor/index';
import { createClient } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { CreateFlags } from '../../src-main/jute/index';
import { waitForLeader } from '../support/chaos';
import { waitUntil } from '../support/processes';

describe('client failover: kill -9 the leader of 3', () => {
  let zk: LocalEnsemble | undefined;
  const clients: ZkClient[] = [];

  beforeAll(async () => {
    zk = await startEnsemble({ servers: 3, tickTimeMs: 500 });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await zk?.stop();
  });

  it('the client connected to the leader resumes its session on another server promptly; its ephemeral survives', async () => {
    const ens = zk!;
    const leader = await waitForLeader(ens, [1, 2, 3], 2, 30_000);
    const others = [1, 2, 3].filter((id) => id !== leader);
    // the leader first, so the client's first connection is to it
    const connectString = [leader, ...others].map((id) => `127.0.0.1:${ens.server(id).clientPort}`).join(',');
    const client = createClient(connectString, { sessionTimeoutMs: 30_000 });
    clients.push(client);
    const log: string[] = [];
    const t0 = Date.now();
    client.on('state', (s) => log.push(`${Date.now() - t0} ms: ${s}`));
    client.on('connectFailed', (f) => log.push(`${Date.now() - t0} ms: attempt to ${f.host.port} failed: ${f.reason}`));
    await client.waitUntilConnected(10_000);
    expect(client.currentHost?.port).toBe(ens.server(leader).clientPort);
    await client.create('/failover-eph', 'x', { mode: CreateFlags.EPHEMERAL });
    const sessionId = client.sessionId;

    const tKill = Date.now();
    await ens.kill(leader);
    await waitUntil(() => !client.isConnected, 'the client to notice the dead leader', 10_000);
    let reconnectedMs = -1;
    try {
      await client.waitUntilConnected(25_000);
      reconnectedMs = Date.now() - tKill;
    } finally {
      console.log(`[client failover] ${reconnectedMs} ms kill → connected\n${log.join('\n')}`);
    }
    expect(client.sessionId).toBe(sessionId);
    expect(others.map((id) => ens.server(id).clientPort)).toContain(client.currentHost?.port);
    // an election with tickTime 500 takes a few seconds; 15 s is half the session timeout
    expect(reconnectedMs).toBeLessThan(15_000);
    const stat = await client.exists('/failover-eph');
    expect(stat?.ephemeralOwner).toBe(sessionId);
  });
});
