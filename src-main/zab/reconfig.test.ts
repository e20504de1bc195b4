import { describe, expect, it } from 'vitest';
import { encodeTxnEntry } from '../jute/txns';
import { OpCode } from '../jute/types';
import { reconfigOfTxnEntry } from './reconfig';

const text = 'server.1=127.0.0.1:2881:3881:participant;0.0.0.0:2181\nserver.2=127.0.0.1:2882:3882:participant;0.0.0.0:2182\nversion=100000003';
const record = (type: number) => {
  const data = encodeTxnEntry({
    header: { clientId: 0x1234n, cxid: 5, zxid: 0x100000003n, time: 1000n, type },
    txn: { type: OpCode.setData, path: '/zookeeper/config', data: new TextEncoder().encode(text), version: 1 },
  });
  return { zxid: 0x100000003n, sessionId: 0x1234n, xid: 5, data };
};

describe('reconfigOfTxnEntry', () => {
  it('a reconfig txn (header type reconfig, setData body) yields the membership it makes', () => {
    const m = reconfigOfTxnEntry(record(OpCode.reconfig));
    expect(m?.voters).toEqual([1, 2]);
    expect(m?.version).toBe(0x100000003n);
  });

  it('any other txn is not a reconfig, also when it sits at an offset in a larger buffer', () => {
    expect(reconfigOfTxnEntry(record(OpCode.setData))).toBeNull();
    const r = record(OpCode.reconfig);
    const bigger = new Uint8Array(r.data.length + 7);
    bigger.set(r.data, 7);
    expect(reconfigOfTxnEntry({ ...r, data: bigger.subarray(7) })?.voters).toEqual([1, 2]);
    expect(reconfigOfTxnEntry({ ...r, data: new Uint8Array(10) })).toBeNull();
  });
});
