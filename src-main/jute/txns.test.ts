import { describe, expect, it } from 'vitest';
import { AssertionError } from '../common/assert';
import { JuteWriter, OpCode, TxnEntryEncoder, decodeTxnEntry, encodeTxnEntry, isJuteError, writeTxnEntry, type ACL, type TxnEntry, type TxnHeader } from './index';
import { asciiHex, hexBytes, toHex } from './test-hex';

const open: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const openHex = '00000001' + '0000001f' + '00000005' + asciiHex('world') + '00000006' + asciiHex('anyone');

function header(type: number): TxnHeader {
  return { clientId: 0x1000001n, cxid: 5, zxid: 0x100000002n, time: 1_700_000_000_000n, type };
}
function headerHex(type: string): string {
  return '0000000001000001' + '00000005' + '0000000100000002' + '0000018bcfe56800' + type;
}

const entries: { name: string; entry: TxnEntry; hex?: string }[] = [
  {
    name: 'CreateTxn: path, data, acl, ephemeral, parentCVersion',
    entry: { header: header(OpCode.create), txn: { type: OpCode.create, path: '/a', data: null, acl: open, ephemeral: true, parentCVersion: 7 } },
    hex: headerHex('00000001') + '00000002' + '2f61' + 'ffffffff' + openHex + '01' + '00000007',
  },
  {
    name: 'create2 header (15) carries a CreateTxn',
    entry: { header: header(OpCode.create2), txn: { type: OpCode.create, path: '/a', data: hexBytes('00'), acl: open, ephemeral: false, parentCVersion: 1 } },
    hex: headerHex('0000000f') + '00000002' + '2f61' + '00000001' + '00' + openHex + '00' + '00000001',
  },
  {
    name: 'CreateContainerTxn: no ephemeral flag',
    entry: { header: header(OpCode.createContainer), txn: { type: OpCode.createContainer, path: '/c', data: null, acl: open, parentCVersion: 2 } },
    hex: headerHex('00000013') + '00000002' + '2f63' + 'ffffffff' + openHex + '00000002',
  },
  {
    name: 'CreateTTLTxn: parentCVersion then ttl',
    entry: { header: header(OpCode.createTTL), txn: { type: OpCode.createTTL, path: '/t', data: null, acl: open, parentCVersion: 3, ttl: 500n } },
    hex: headerHex('00000015') + '00000002' + '2f74' + 'ffffffff' + openHex + '00000003' + '00000000000001f4',
  },
  {
    name: 'DeleteTxn',
    entry: { header: header(OpCode.delete), txn: { type: OpCode.delete, path: '/a' } },
    hex: headerHex('00000002') + '00000002' + '2f61',
  },
  { name: 'deleteContainer', entry: { header: header(OpCode.deleteContainer), txn: { type: OpCode.deleteContainer, path: '/c' } } },
  {
    name: 'SetDataTxn',
    entry: { header: header(OpCode.setData), txn: { type: OpCode.setData, path: '/a', data: hexBytes('6869'), version: 4 } },
    hex: headerHex('00000005') + '00000002' + '2f61' + '00000002' + '6869' + '00000004',
  },
  { name: 'reconfig header (16) carries a SetDataTxn', entry: { header: header(OpCode.reconfig), txn: { type: OpCode.setData, path: '/zookeeper/config', data: null, version: -1 } } },
  {
    name: 'SetACLTxn',
    entry: { header: header(OpCode.setACL), txn: { type: OpCode.setACL, path: '/a', acl: open, version: 1 } },
    hex: headerHex('00000007') + '00000002' + '2f61' + openHex + '00000001',
  },
  { name: 'CheckVersionTxn', entry: { header: header(OpCode.check), txn: { type: OpCode.check, path: '/a', version: 9 } } },
  {
    name: 'CreateSessionTxn',
    entry: { header: header(OpCode.createSession), txn: { type: OpCode.createSession, timeOut: 30000 } },
    hex: headerHex('fffffff6') + '00007530',
  },
  {
    name: 'CloseSessionTxn with paths2Delete',
    entry: { header: header(OpCode.closeSession), txn: { type: OpCode.closeSession, paths2Delete: ['/e'] } },
    hex: headerHex('fffffff5') + '00000001' + '00000002' + '2f65',
  },
  {
    name: 'closeSession without body (older logs)',
    entry: { header: header(OpCode.closeSession), txn: { type: OpCode.closeSession } },
    hex: headerHex('fffffff5'),
  },
  {
    name: 'ErrorTxn',
    entry: { header: header(OpCode.error), txn: { type: OpCode.error, err: -110 } },
    hex: headerHex('ffffffff') + 'ffffff92',
  },
  {
    name: 'MultiTxn: Txn{type, data buffer} entries',
    entry: {
      header: header(OpCode.multi),
      txn: { type: OpCode.multi, txns: [{ type: OpCode.delete, path: '/a' }, { type: OpCode.check, path: '/b', version: 1 }] },
    },
    hex:
      headerHex('0000000e') + '00000002' +
      '00000002' + '00000006' + '00000002' + '2f61' +
      '0000000d' + '0000000a' + '00000002' + '2f62' + '00000001',
  },
  {
    name: 'failed multi: error sub-txns',
    entry: {
      header: header(OpCode.multi),
      txn: { type: OpCode.multi, txns: [{ type: OpCode.error, err: 0 }, { type: OpCode.error, err: -101 }, { type: OpCode.error, err: -2 }] },
    },
  },
  {
    name: 'with a trailing TxnDigest (Apache 3.6+ logs)',
    entry: { header: header(OpCode.delete), txn: { type: OpCode.delete, path: '/a' }, digest: { version: 2, treeDigest: 0x1234n } },
    hex: headerHex('00000002') + '00000002' + '2f61' + '00000002' + '0000000000001234',
  },
  {
    name: 'closeSession without body but with a digest',
    entry: { header: header(OpCode.closeSession), txn: { type: OpCode.closeSession }, digest: { version: 2, treeDigest: 0x7fn } },
  },
];

describe('txn entries: byte vectors and round trips', () => {
  for (const { name, entry, hex } of entries) {
    it(name, () => {
      const bytes = encodeTxnEntry(entry);
      if (hex !== undefined) expect(toHex(bytes)).toBe(hex);
      expect(decodeTxnEntry(bytes)).toEqual(entry);
    });
  }

  it('multi: a create2 sub-txn decodes as create (same record)', () => {
    const sub = '00000002' + '2f61' + 'ffffffff' + openHex + '00' + '00000001';
    const hex = headerHex('0000000e') + '00000001' + '0000000f' + (sub.length / 2).toString(16).padStart(8, '0') + sub;
    expect(decodeTxnEntry(hexBytes(hex)).txn).toEqual({
      type: OpCode.multi,
      txns: [{ type: OpCode.create, path: '/a', data: null, acl: open, ephemeral: false, parentCVersion: 1 }],
    });
  });

  it('writeTxnEntry: every entry written one after another into one writer has the bytes encodeTxnEntry gives it', () => {
    const w = new JuteWriter(16);
    const views = entries.map(({ entry }) => writeTxnEntry(w, entry));
    entries.forEach(({ entry }, i) => expect(toHex(views[i]!)).toBe(toHex(encodeTxnEntry(entry))));
    w.reset();
    expect(toHex(writeTxnEntry(w, entries[0]!.entry))).toBe(toHex(encodeTxnEntry(entries[0]!.entry)));
  });

  it('header type that does not match the txn is a bug (assert)', () => {
    expect(() => encodeTxnEntry({ header: header(OpCode.setData), txn: { type: OpCode.delete, path: '/a' } })).toThrow(AssertionError);
  });

  it('truncated entries, unknown types and trailing garbage give jute errors', () => {
    for (const { entry } of entries) {
      const full = encodeTxnEntry(entry);
      for (let n = 0; n < full.length; n++) {
        let err: unknown;
        try {
          decodeTxnEntry(full.subarray(0, n));
        } catch (e) {
          err = e;
        }
        // a body-less closeSession is a valid prefix of one with a body
        if (err === undefined && entry.txn.type === OpCode.closeSession) continue;
        // cut exactly before the optional digest: a valid entry without one
        if (err === undefined && entry.digest !== undefined && n === full.length - 12) continue;
        expect(isJuteError(err), `${entry.txn.type} cut at ${n}`).toBe(true);
      }
    }
    expect(() => decodeTxnEntry(hexBytes(headerHex('00000063')))).toThrow(/unknown txn opcode 99/);
    expect(() => decodeTxnEntry(hexBytes(headerHex('00000002') + '00000002' + '2f61' + '00'))).toThrow(/trailing/);
    const nestedMulti = headerHex('0000000e') + '00000001' + '0000000e' + '00000004' + '00000000';
    expect(() => decodeTxnEntry(hexBytes(nestedMulti))).toThrow(/inside a multi/);
  });
});

describe('TxnEntryEncoder', () => {
  it('hands out the same bytes as encodeTxnEntry, and earlier entries stay as they were (across new blocks and a big entry)', () => {
    const enc = new TxnEntryEncoder(4096);
    const setData = (i: number, size: number): TxnEntry => ({
      header: { clientId: 1n, cxid: i, zxid: 0x100000000n + BigInt(i), time: 5n, type: OpCode.setData },
      txn: { type: OpCode.setData, path: `/n${i}`, data: new Uint8Array(size).fill(i & 0xff), version: i },
    });
    const kept: { entry: TxnEntry; bytes: Uint8Array }[] = [];
    for (let i = 0; i < 200; i++) {
      // every 50th entry is bigger than a block: the writer grows into a new buffer
      const entry = setData(i, i % 50 === 49 ? 10_000 : 100);
      kept.push({ entry, bytes: enc.encode(entry) });
    }
    for (const k of kept) expect(toHex(k.bytes)).toBe(toHex(encodeTxnEntry(k.entry)));
  });
});
