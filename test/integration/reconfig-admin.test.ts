/**
 * The supervisor's reconfig session must not outlive the ensemble it serves: an admin closed
 * (a detaching `zoolab up`, a shutdown) while its session is still being opened or
 * authenticated closes that session when it lands, or its pings keep the process alive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type ZkClient } from '../../src-main/client/index';
import { startEnsemble, type LocalEnsemble } from '../../src-main/supervisor';
import { ReconfigAdmin } from '../../src-main/supervisor/reconfig-admin';
import { waitUntil } from '../support/processes';

describe('ReconfigAdmin closed while its session is being made', () => {
  let zk: LocalEnsemble;
  beforeAll(async () => {
    zk = await startEnsemble({ servers: 1 });
  });
  afterAll(async () => {
    await zk?.stop();
  });

  const opening = (when: 'connected' | 'authenticating') => {
    let opened: ZkClient | null = null;
    const admin: ReconfigAdmin = new ReconfigAdmin(
      () => zk.connectionString,
      'secret',
      () => {},
      async (hosts) => {
        const c = await connectClient(hosts, { sessionTimeoutMs: 10_000 }, 20_000);
        opened = c;
        // right as the session lands, or once the admin has gone on to send its auth
        if (when === 'connected') void admin.close();
        else setImmediate(() => void admin.close());
        return c;
      },
    );
    return { admin, client: () => opened };
  };

  for (const when of ['connected', 'authenticating'] as const) {
    it(`closed when the session is ${when}: the watch fails and the session is closed`, async () => {
      const { admin, client } = opening(when);
      await expect(admin.watch()).rejects.toThrow(/shut down/);
      await waitUntil(() => client()?.state === 'closed', 'the admin session closed', 10_000);
    });
  }
});
