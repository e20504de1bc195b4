import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, EnsembleView } from '../../src-main/api/contract';
import { EventHub } from '../../src-main/api/rpc';
import { createTreeHost } from '../../src-main/web/tree-host';
import { startZooLabServer, type ZooLabServer } from '../compat/zoolab-process';
import { freePort } from '../support/ports';

// The app's tree reads through the shell's client binding, which fails a call at the first
// failed connection attempt (as zkCli does). A tree read must not leave the tree empty because
// the first host of the connection string refused us: it waits for the session and tries again.
describe('tree host: a read that meets a connection loss tries again', () => {
  let server: ZooLabServer;
  let dead: { port: number; release(): void };
  beforeAll(async () => {
    server = await startZooLabServer();
    dead = await freePort(); // nothing listens here: the first attempt is refused
  });
  afterAll(async () => {
    dead?.release();
    await server?.stop();
  });

  it('first host refused → the listing still arrives from the second host', async () => {
    const view = {
      dir: '',
      connectionString: `127.0.0.1:${dead.port},127.0.0.1:${server.port}`,
      servers: [{ id: 1, state: 'running' }],
    } as unknown as EnsembleView;
    // only getEnsemble is used by the tree host; the servers behind it are real
    const backend = { calls: { getEnsemble: async () => view } } as unknown as Backend;
    const host = createTreeHost(backend, new EventHub());
    try {
      const r = await host.calls.treeChildren('/');
      expect(r.children).toContain('zookeeper');
    } finally {
      await host.dispose();
    }
  });
});
