import { describe, expect, it } from 'vitest';
import type { Txn } from '../jute/types';
import { OpCode } from '../jute/types';
import { OPEN_ACL_UNSAFE } from './acl';
import { DataTree } from './data-tree';
import { formatStatsTrack, parseStatsTrack } from './quota';

const acl = [...OPEN_ACL_UNSAFE];
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => new TextDecoder().decode(b ?? new Uint8Array(0));

function driver() {
  const t = new DataTree();
  let zxid = 0n;
  const apply = (txn: Txn) => t.applyTxn({ header: { clientId: 1n, cxid: 0, zxid: ++zxid, time: 1n, type: txn.type }, txn });
  const mk = (path: string, data: string) => {
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    apply({ type: OpCode.create, path, data: enc(data), acl, ephemeral: false, parentCVersion: t.record(parent)!.stat.cversion + 1 });
  };
  return { t, apply, mk };
}

describe('quota: StatsTrack text', () => {
  it('parses and prints like upstream, extra limit keys after "=;"', () => {
    expect(formatStatsTrack(parseStatsTrack('count=3,bytes=10'))).toBe('count=3,bytes=10');
    expect(formatStatsTrack(parseStatsTrack('count=-1,bytes=-1=;countHardLimit=5'))).toBe('count=-1,bytes=-1=;countHardLimit=5');
    expect(parseStatsTrack('count=,bytes=7').get('count')).toBe(-1);
  });
});

describe('quota: the tree keeps zookeeper_stats current', () => {
  it('counts the subtree when the stats node is created, then follows creates, setData and deletes', () => {
    const { t, apply, mk } = driver();
    mk('/x', 'ab');
    mk('/x/y', 'c');
    mk('/zookeeper/quota/x', '');
    mk('/zookeeper/quota/x/zookeeper_limits', 'count=10,bytes=-1');
    mk('/zookeeper/quota/x/zookeeper_stats', 'count=0,bytes=0');
    const stats = () => dec(t.getData('/zookeeper/quota/x/zookeeper_stats')!.data);
    expect(stats()).toBe('count=2,bytes=3');
    const statVersion = t.stat('/zookeeper/quota/x/zookeeper_stats')!.version;
    mk('/x/z', 'dd');
    expect(stats()).toBe('count=3,bytes=5');
    apply({ type: OpCode.setData, path: '/x', data: enc('abc'), version: 1 });
    expect(stats()).toBe('count=3,bytes=6');
    apply({ type: OpCode.delete, path: '/x/y' });
    expect(stats()).toBe('count=2,bytes=5');
    mk('/other', 'zzzz');
    expect(stats()).toBe('count=2,bytes=5');
    // bookkeeping changes data only, like upstream: no version bump
    expect(t.stat('/zookeeper/quota/x/zookeeper_stats')!.version).toBe(statVersion);
    expect(t.quotas()).toEqual(['/x']);

    const restored = DataTree.fromSnapshot(t.exportSnapshot());
    expect(restored.digest()).toBe(t.digest());
    expect(restored.quotas()).toEqual(['/x']);

    apply({ type: OpCode.delete, path: '/zookeeper/quota/x/zookeeper_limits' });
    mk('/x/w', 'q');
    expect(stats()).toBe('count=2,bytes=5');
    expect(t.quotas()).toEqual([]);
  });
});
