import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type * as Supervisor from '../../src-main/supervisor/index';
import { waitUntil } from '../support/processes';

// The built `zoolab/testing` entry (package.json exports) is what other people's suites import:
// check it is self-contained and starts a real ensemble from the built bundle.
describe('zoolab/testing (built entry)', () => {
  it('startEnsemble from out/main/testing.js elects a leader and stops every process', async () => {
    const entry = pathToFileURL(resolve(import.meta.dirname, '../../out/main/testing.js')).href;
    const api = (await import(/* @vite-ignore */ entry)) as typeof Supervisor;
    const zk = await api.startEnsemble({ servers: 3, tickTimeMs: 200 });
    const pids = zk.servers().map((s) => s.pid);
    try {
      expect(zk.connectionString.split(',')).toHaveLength(3);
      await waitUntil(() => zk.leader() !== null, 'a leader', 20_000);
    } finally {
      await zk.stop();
    }
    for (const pid of pids) {
      expect(pid).not.toBeNull();
      expect(() => process.kill(pid as number, 0)).toThrow();
    }
  });
});
