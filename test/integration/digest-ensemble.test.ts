/**
 * `hash` on an ensemble: every member applies the same txns, so every member prints the same
 * digest history (ZooKeeper compares these to find a diverged replica).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src-main/client/index';
import { startEnsemble, type LocalEnsemble } from '../../src-main/supervisor';
import { sendFourLetterWord } from '../support/apache-zookeeper';
import { waitUntil } from '../support/processes';

describe('hash on a 3-server ensemble', () => {
  let zk: LocalEnsemble | undefined;
  afterAll(async () => {
    await zk?.stop();
  });

  it('leader and followers print the same history once they have applied the same txns', async () => {
    zk = await startEnsemble({ servers: 3, tickTimeMs: 200, pollIntervalMs: 100 });
    const ens = zk;
    await waitUntil(() => ens.leader() !== null && ens.servers().filter((s) => s.role === 'follower').length === 2, 'a settled ensemble', 20_000);
    const c = await connectClient(ens.connectionString, { sessionTimeoutMs: 10_000 }, 20_000);
    for (let i = 0; i < 140; i++) await c.create(`/h${i}`, `v${i}`);
    await c.close();
    const hashes = async (): Promise<string[]> => Promise.all(ens.servers().map((s) => sendFourLetterWord(s.clientPort, 'hash')));
    let last: string[] = [];
    await waitUntil(
      async () => {
        last = await hashes();
        return last[0] !== '' && last.every((h) => h === last[0]);
      },
      'the same non-empty hash on every server',
      20_000,
    );
    expect(last[0]).toMatch(/^[0-9a-f]+: -?\d+\n/);
  }, 60_000);
});
