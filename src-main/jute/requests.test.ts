import { describe, expect, it } from 'vitest';
import {
  JuteReader,
  JuteWriter,
  OpCode,
  UnknownOpCodeError,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  isJuteError,
  type ACL,
  type Request,
  type Response,
  type Stat,
} from './index';
import { asciiHex, hexBytes, toHex } from './test-hex';

const open: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const openHex = '00000001' + '0000001f' + '00000005' + asciiHex('world') + '00000006' + asciiHex('anyone');
const stat: Stat = {
  czxid: 1n, mzxid: 2n, ctime: 3n, mtime: 4n, version: 5, cversion: 6, aversion: 7,
  ephemeralOwner: 8n, dataLength: 9, numChildren: 10, pzxid: 11n,
};
const statHex =
  '0000000000000001' + '0000000000000002' + '0000000000000003' + '0000000000000004' +
  '00000005' + '00000006' + '00000007' + '0000000000000008' + '00000009' + '0000000a' + '000000000000000b';

function encReq(r: Request): string {
  const w = new JuteWriter(4);
  encodeRequest(w, r);
  return toHex(w.bytes());
}
function encRes(r: Response): string {
  const w = new JuteWriter(4);
  encodeResponse(w, r);
  return toHex(w.bytes());
}
function decReq(type: number, hex: string): Request {
  const r = new JuteReader(hexBytes(hex));
  const out = decodeRequest(type, r);
  expect(r.remaining).toBe(0);
  return out;
}
function decRes(type: number, hex: string): Response {
  const r = new JuteReader(hexBytes(hex));
  const out = decodeResponse(type, r);
  expect(r.remaining).toBe(0);
  return out;
}

/** One sample of every request variant, with hand-computed bytes for several. */
const requests: { name: string; req: Request; hex?: string }[] = [
  {
    name: 'create ephemeral "/a" data "x" open ACL',
    req: { type: OpCode.create, req: { path: '/a', data: hexBytes('78'), acl: open, flags: 1 } },
    hex: '00000002' + '2f61' + '00000001' + '78' + openHex + '00000001',
  },
  {
    name: 'create2 with null data (length -1)',
    req: { type: OpCode.create2, req: { path: '/a', data: null, acl: open, flags: 0 } },
    hex: '00000002' + '2f61' + 'ffffffff' + openHex + '00000000',
  },
  { name: 'createContainer', req: { type: OpCode.createContainer, req: { path: '/c', data: new Uint8Array(0), acl: open, flags: 4 } } },
  {
    name: 'createTTL: flags then ttl long',
    req: { type: OpCode.createTTL, req: { path: '/t', data: new Uint8Array(0), acl: open, flags: 5, ttl: 1000n } },
    hex: '00000002' + '2f74' + '00000000' + openHex + '00000005' + '00000000000003e8',
  },
  { name: 'delete', req: { type: OpCode.delete, req: { path: '/a', version: -1 } }, hex: '00000002' + '2f61' + 'ffffffff' },
  { name: 'exists', req: { type: OpCode.exists, req: { path: '/a', watch: false } }, hex: '00000002' + '2f61' + '00' },
  { name: 'getData', req: { type: OpCode.getData, req: { path: '/a', watch: true } }, hex: '00000002' + '2f61' + '01' },
  { name: 'getChildren', req: { type: OpCode.getChildren, req: { path: '/', watch: true } } },
  { name: 'getChildren2', req: { type: OpCode.getChildren2, req: { path: '/', watch: false } } },
  {
    name: 'setData',
    req: { type: OpCode.setData, req: { path: '/a', data: hexBytes('6869'), version: 3 } },
    hex: '00000002' + '2f61' + '00000002' + '6869' + '00000003',
  },
  { name: 'getACL', req: { type: OpCode.getACL, req: { path: '/a' } }, hex: '00000002' + '2f61' },
  { name: 'sync', req: { type: OpCode.sync, req: { path: '/' } } },
  { name: 'deleteContainer', req: { type: OpCode.deleteContainer, req: { path: '/c' } } },
  { name: 'getAllChildrenNumber', req: { type: OpCode.getAllChildrenNumber, req: { path: '/' } } },
  {
    name: 'setACL',
    req: { type: OpCode.setACL, req: { path: '/a', acl: open, version: 0 } },
    hex: '00000002' + '2f61' + openHex + '00000000',
  },
  { name: 'check (top level)', req: { type: OpCode.check, req: { path: '/a', version: 2 } } },
  {
    name: 'multi: create + check, terminated by (-1, true, -1)',
    req: {
      type: OpCode.multi,
      req: {
        ops: [
          { type: OpCode.create, req: { path: '/a', data: null, acl: open, flags: 0 } },
          { type: OpCode.check, req: { path: '/a', version: 3 } },
        ],
      },
    },
    hex:
      '00000001' + '00' + 'ffffffff' + '00000002' + '2f61' + 'ffffffff' + openHex + '00000000' +
      '0000000d' + '00' + 'ffffffff' + '00000002' + '2f61' + '00000003' +
      'ffffffff' + '01' + 'ffffffff',
  },
  {
    name: 'multi: every write op kind',
    req: {
      type: OpCode.multi,
      req: {
        ops: [
          { type: OpCode.create2, req: { path: '/b', data: null, acl: open, flags: 2 } },
          { type: OpCode.createContainer, req: { path: '/c', data: null, acl: open, flags: 4 } },
          { type: OpCode.createTTL, req: { path: '/t', data: null, acl: open, flags: 5, ttl: 99n } },
          { type: OpCode.delete, req: { path: '/b', version: -1 } },
          { type: OpCode.setData, req: { path: '/c', data: hexBytes('00'), version: -1 } },
        ],
      },
    },
  },
  {
    name: 'multiRead: getData + getChildren carry a false watch flag',
    req: {
      type: OpCode.multiRead,
      req: { ops: [{ type: OpCode.getData, req: { path: '/a' } }, { type: OpCode.getChildren, req: { path: '/' } }] },
    },
    hex:
      '00000004' + '00' + 'ffffffff' + '00000002' + '2f61' + '00' +
      '00000008' + '00' + 'ffffffff' + '00000001' + '2f' + '00' +
      'ffffffff' + '01' + 'ffffffff',
  },
  { name: 'getEphemerals', req: { type: OpCode.getEphemerals, req: { prefixPath: '/e' } } },
  { name: 'checkWatches', req: { type: OpCode.checkWatches, req: { path: '/a', type: 3 } }, hex: '00000002' + '2f61' + '00000003' },
  { name: 'removeWatches', req: { type: OpCode.removeWatches, req: { path: '/a', type: 1 } } },
  { name: 'addWatch', req: { type: OpCode.addWatch, req: { path: '/a', mode: 1 } }, hex: '00000002' + '2f61' + '00000001' },
  {
    name: 'auth digest',
    req: { type: OpCode.auth, req: { type: 0, scheme: 'digest', auth: hexBytes(asciiHex('u:p')) } },
    hex: '00000000' + '00000006' + asciiHex('digest') + '00000003' + asciiHex('u:p'),
  },
  {
    name: 'setWatches',
    req: { type: OpCode.setWatches, req: { relativeZxid: 0x10n, dataWatches: ['/a'], existWatches: [], childWatches: ['/'] } },
    hex: '0000000000000010' + '00000001' + '00000002' + '2f61' + '00000000' + '00000001' + '00000001' + '2f',
  },
  {
    name: 'setWatches2',
    req: {
      type: OpCode.setWatches2,
      req: { relativeZxid: 1n, dataWatches: [], existWatches: ['/x'], childWatches: [], persistentWatches: ['/p'], persistentRecursiveWatches: ['/r'] },
    },
    hex:
      '0000000000000001' + '00000000' + '00000001' + '00000002' + '2f78' + '00000000' +
      '00000001' + '00000002' + '2f70' + '00000001' + '00000002' + '2f72',
  },
  { name: 'sasl', req: { type: OpCode.sasl, req: { token: hexBytes('0102') } }, hex: '00000002' + '0102' },
  {
    name: 'reconfig with null members',
    req: { type: OpCode.reconfig, req: { joiningServers: 'server.4=h:1:2;3', leavingServers: null, newMembers: null, curConfigId: -1n } },
  },
  { name: 'ping', req: { type: OpCode.ping, req: null }, hex: '' },
  { name: 'closeSession', req: { type: OpCode.closeSession, req: null }, hex: '' },
  { name: 'whoAmI', req: { type: OpCode.whoAmI, req: null }, hex: '' },
];

describe('requests: byte vectors and round trips', () => {
  for (const { name, req, hex } of requests) {
    it(`${name}`, () => {
      const bytes = encReq(req);
      if (hex !== undefined) expect(bytes).toBe(hex);
      expect(decReq(req.type, bytes)).toEqual(req);
    });
  }

  it('unknown opcode → UnknownOpCodeError naming it', () => {
    expect(() => decodeRequest(99, new JuteReader(new Uint8Array(0)))).toThrow(UnknownOpCodeError);
    expect(() => decodeRequest(OpCode.createSession, new JuteReader(new Uint8Array(0)))).toThrow(/-10/);
  });

  it('multi with an op type that has no record → UnknownOpCodeError', () => {
    const hex = '00000003' + '00' + 'ffffffff' + '00000002' + '2f61' + '00' + 'ffffffff01ffffffff';
    expect(() => decodeRequest(OpCode.multi, new JuteReader(hexBytes(hex)))).toThrow(UnknownOpCodeError);
  });

  it('a multi nested in a multi → UnknownOpCodeError before its body is read (no recursion)', () => {
    // header (type 14 = multi, false, -1) repeated: a reader that recursed would go 100k deep on a 1 MiB frame
    const nested = '0000000e' + '00' + 'ffffffff';
    expect(() => decodeRequest(OpCode.multi, new JuteReader(hexBytes(nested.repeat(1000))))).toThrow(UnknownOpCodeError);
  });

  it('multi without its terminating header → JuteUnderflow, not a hang', () => {
    const hex = '0000000d' + '00' + 'ffffffff' + '00000002' + '2f61' + '00000003';
    expect(() => decodeRequest(OpCode.multi, new JuteReader(hexBytes(hex)))).toThrow(/more bytes/);
  });
});

/** One sample of every response variant. */
const responses: { name: string; type: number; res: Response; hex?: string }[] = [
  { name: 'create', type: OpCode.create, res: { type: OpCode.create, path: '/a0000000001' } },
  { name: 'create2', type: OpCode.create2, res: { type: OpCode.create2, path: '/a', stat }, hex: '00000002' + '2f61' + statHex },
  { name: 'createContainer', type: OpCode.createContainer, res: { type: OpCode.createContainer, path: '/c', stat } },
  { name: 'createTTL', type: OpCode.createTTL, res: { type: OpCode.createTTL, path: '/t', stat } },
  { name: 'exists', type: OpCode.exists, res: { type: OpCode.exists, stat }, hex: statHex },
  { name: 'setData', type: OpCode.setData, res: { type: OpCode.setData, stat } },
  { name: 'setACL', type: OpCode.setACL, res: { type: OpCode.setACL, stat } },
  { name: 'getData null data', type: OpCode.getData, res: { type: OpCode.getData, data: null, stat }, hex: 'ffffffff' + statHex },
  { name: 'getData empty data', type: OpCode.getData, res: { type: OpCode.getData, data: new Uint8Array(0), stat }, hex: '00000000' + statHex },
  { name: 'getACL', type: OpCode.getACL, res: { type: OpCode.getACL, acl: open, stat }, hex: openHex + statHex },
  {
    name: 'getChildren',
    type: OpCode.getChildren,
    res: { type: OpCode.getChildren, children: ['a', 'bb'] },
    hex: '00000002' + '00000001' + '61' + '00000002' + '6262',
  },
  { name: 'getChildren2', type: OpCode.getChildren2, res: { type: OpCode.getChildren2, children: [], stat }, hex: '00000000' + statHex },
  { name: 'sync', type: OpCode.sync, res: { type: OpCode.sync, path: '/' }, hex: '00000001' + '2f' },
  {
    name: 'multi: success results (create as 1, create2 as 15, delete, setData, check)',
    type: OpCode.multi,
    res: {
      type: OpCode.multi,
      results: [
        { type: OpCode.create, path: '/a' },
        { type: OpCode.create2, path: '/b', stat },
        { type: OpCode.delete },
        { type: OpCode.setData, stat },
        { type: OpCode.check },
      ],
    },
    hex:
      '00000001' + '00' + '00000000' + '00000002' + '2f61' +
      '0000000f' + '00' + '00000000' + '00000002' + '2f62' + statHex +
      '00000002' + '00' + '00000000' +
      '00000005' + '00' + '00000000' + statHex +
      '0000000d' + '00' + '00000000' +
      'ffffffff' + '01' + 'ffffffff',
  },
  {
    name: 'multi: failed at op 2 → 0, NONODE, RUNTIMEINCONSISTENCY error results',
    type: OpCode.multi,
    res: {
      type: OpCode.multi,
      results: [{ type: OpCode.error, err: 0 }, { type: OpCode.error, err: -101 }, { type: OpCode.error, err: -2 }],
    },
    hex:
      'ffffffff' + '00' + '00000000' + '00000000' +
      'ffffffff' + '00' + 'ffffff9b' + 'ffffff9b' +
      'ffffffff' + '00' + 'fffffffe' + 'fffffffe' +
      'ffffffff' + '01' + 'ffffffff',
  },
  {
    name: 'multiRead: getData, getChildren and a per-op error',
    type: OpCode.multiRead,
    res: {
      type: OpCode.multiRead,
      results: [
        { type: OpCode.getData, data: hexBytes('41'), stat },
        { type: OpCode.getChildren, children: ['x'] },
        { type: OpCode.error, err: -101 },
      ],
    },
    hex:
      '00000004' + '00' + '00000000' + '00000001' + '41' + statHex +
      '00000008' + '00' + '00000000' + '00000001' + '00000001' + '78' +
      'ffffffff' + '00' + 'ffffff9b' + 'ffffff9b' +
      'ffffffff' + '01' + 'ffffffff',
  },
  { name: 'getEphemerals', type: OpCode.getEphemerals, res: { type: OpCode.getEphemerals, ephemerals: ['/e/1'] } },
  { name: 'getAllChildrenNumber', type: OpCode.getAllChildrenNumber, res: { type: OpCode.getAllChildrenNumber, totalNumber: 3 }, hex: '00000003' },
  { name: 'addWatch: a 4-byte zero body', type: OpCode.addWatch, res: { type: OpCode.addWatch }, hex: '00000000' },
  {
    name: 'whoAmI',
    type: OpCode.whoAmI,
    res: { type: OpCode.whoAmI, clientInfo: [{ authScheme: 'ip', user: '127.0.0.1' }] },
    hex: '00000001' + '00000002' + asciiHex('ip') + '00000009' + asciiHex('127.0.0.1'),
  },
  { name: 'sasl', type: OpCode.sasl, res: { type: OpCode.sasl, token: null }, hex: 'ffffffff' },
  { name: 'reconfig', type: OpCode.reconfig, res: { type: OpCode.reconfig, data: hexBytes('76'), stat } },
  ...[OpCode.delete, OpCode.ping, OpCode.closeSession, OpCode.auth, OpCode.setWatches, OpCode.setWatches2, OpCode.checkWatches, OpCode.removeWatches, OpCode.deleteContainer].map(
    (type) => ({ name: `opcode ${type}: empty body`, type, res: { type: 'empty' } as Response, hex: '' }),
  ),
];

describe('responses: byte vectors and round trips', () => {
  for (const { name, type, res, hex } of responses) {
    it(`${name}`, () => {
      const bytes = encRes(res);
      if (hex !== undefined) expect(bytes).toBe(hex);
      expect(decRes(type, bytes)).toEqual(res);
    });
  }

  it('multi: createContainer and createTTL results report as create2 (15)', () => {
    const bytes = encRes({ type: OpCode.multi, results: [{ type: OpCode.createTTL, path: '/t', stat }] });
    expect(bytes.slice(0, 8)).toBe('0000000f');
    expect(decRes(OpCode.multi, bytes)).toEqual({ type: OpCode.multi, results: [{ type: OpCode.create2, path: '/t', stat }] });
  });

  it('unknown multi result type → UnknownOpCodeError', () => {
    expect(() => decodeResponse(OpCode.multi, new JuteReader(hexBytes('0000006300' + '00000000')))).toThrow(UnknownOpCodeError);
  });
});

/** Seeded xorshift so the fuzz is reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

describe('malformed input: clean errors, never a crash or hang', () => {
  it('every strict prefix of every request body throws a jute error', () => {
    for (const { req } of requests) {
      const full = hexBytes(encReq(req));
      for (let n = 0; n < full.length; n++) {
        let err: unknown;
        try {
          decodeRequest(req.type, new JuteReader(full.subarray(0, n)));
        } catch (e) {
          err = e;
        }
        expect(isJuteError(err), `${req.type} cut at ${n}: ${String(err)}`).toBe(true);
      }
    }
  });

  it('every strict prefix of every response body throws a jute error', () => {
    for (const { type, res } of responses) {
      const full = hexBytes(encRes(res));
      for (let n = 0; n < full.length; n++) {
        let err: unknown;
        try {
          decodeResponse(type, new JuteReader(full.subarray(0, n)));
        } catch (e) {
          err = e;
        }
        expect(isJuteError(err), `${type} cut at ${n}: ${String(err)}`).toBe(true);
      }
    }
  });

  it('huge vector count and negative lengths are rejected without allocating', () => {
    expect(() => decodeResponse(OpCode.getChildren, new JuteReader(hexBytes('7fffffff')))).toThrow(/vector of 2147483647/);
    expect(() => decodeRequest(OpCode.setACL, new JuteReader(hexBytes('00000001' + '2f' + '7ffffff0')))).toThrow(isJuteErrorMatcher());
    expect(() => decodeRequest(OpCode.getData, new JuteReader(hexBytes('fffffff0')))).toThrow(/negative string length/);
    expect(() => decodeRequest(OpCode.setData, new JuteReader(hexBytes('00000001' + '2f' + '80000000')))).toThrow(/negative buffer length/);
    expect(() => decodeRequest(OpCode.getData, new JuteReader(hexBytes('7fffffff' + '00')))).toThrow(/more bytes/);
  });

  it('random bytes for every opcode: decoded or a jute error (seeded fuzz)', () => {
    const next = prng(20260601);
    const types = [...requests.map((r) => r.req.type), 0, 99, -10];
    for (let i = 0; i < 3000; i++) {
      const len = next() % 64;
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = next() & 0xff;
      const type = types[next() % types.length]!;
      for (const decode of [decodeRequest, decodeResponse]) {
        try {
          decode(type, new JuteReader(bytes));
        } catch (e) {
          expect(isJuteError(e), String(e)).toBe(true);
        }
      }
    }
  });
});

function isJuteErrorMatcher(): RegExp {
  return /bytes|length|vector/;
}
