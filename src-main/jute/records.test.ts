import { describe, expect, it } from 'vitest';
import {
  JuteReader,
  JuteWriter,
  OpCode,
  decodeConnectRequest,
  decodeConnectResponse,
  encodeConnectRequestFrame,
  encodeConnectResponseFrame,
  encodeNotificationFrame,
  encodeReplyFrame,
  encodeRequestFrame,
  decodeRequestFrame,
  decodeReplyHeader,
  decodeNotification,
  readACL,
  readId,
  readMultiHeader,
  readReplyHeader,
  readRequestHeader,
  readStat,
  readStatPersisted,
  readWatcherEvent,
  writeACL,
  writeId,
  writeMultiHeader,
  writeReplyHeader,
  writeRequestHeader,
  writeStat,
  writeStatPersisted,
  writeWatcherEvent,
  type Stat,
} from './index';
import { asciiHex, hexBytes, toHex } from './test-hex';

function bytesOf(write: (w: JuteWriter) => void): string {
  const w = new JuteWriter(8);
  write(w);
  return toHex(w.bytes());
}

const stat: Stat = {
  czxid: 0x100000002n,
  mzxid: 0x100000003n,
  ctime: 1_700_000_000_000n,
  mtime: 1_700_000_000_001n,
  version: 1,
  cversion: 2,
  aversion: 3,
  ephemeralOwner: 0x1000abcdef0001n,
  dataLength: 5,
  numChildren: 6,
  pzxid: 0x100000004n,
};
// 1_700_000_000_000 = 0x18bcfe56800
const statHex =
  '0000000100000002' + '0000000100000003' + '0000018bcfe56800' + '0000018bcfe56801' +
  '00000001' + '00000002' + '00000003' + '001000abcdef0001' + '00000005' + '00000006' + '0000000100000004';

describe('jute records: byte vectors', () => {
  it('Id and ACL: world:anyone with ALL', () => {
    const hex = bytesOf((w) => writeACL(w, { perms: 31, id: { scheme: 'world', id: 'anyone' } }));
    expect(hex).toBe('0000001f' + '00000005' + asciiHex('world') + '00000006' + asciiHex('anyone'));
    expect(readACL(new JuteReader(hexBytes(hex)))).toEqual({ perms: 31, id: { scheme: 'world', id: 'anyone' } });
    expect(bytesOf((w) => writeId(w, { scheme: 'ip', id: '' }))).toBe('00000002' + asciiHex('ip') + '00000000');
    expect(readId(new JuteReader(hexBytes('00000002' + asciiHex('ip') + 'ffffffff')))).toEqual({ scheme: 'ip', id: '' });
  });

  it('Stat: 68 bytes in zookeeper.jute order', () => {
    const hex = bytesOf((w) => writeStat(w, stat));
    expect(hex).toBe(statHex);
    expect(hex.length / 2).toBe(68);
    expect(readStat(new JuteReader(hexBytes(hex)))).toEqual(stat);
  });

  it('StatPersisted: Stat without dataLength and numChildren (60 bytes)', () => {
    const { dataLength: _d, numChildren: _n, ...persisted } = stat;
    const hex = bytesOf((w) => writeStatPersisted(w, persisted));
    expect(hex).toBe(statHex.slice(0, 2 * 52) + '0000000100000004');
    expect(readStatPersisted(new JuteReader(hexBytes(hex)))).toEqual(persisted);
  });

  it('RequestHeader and ReplyHeader', () => {
    expect(bytesOf((w) => writeRequestHeader(w, { xid: 1, type: OpCode.getData }))).toBe('0000000100000004');
    expect(readRequestHeader(new JuteReader(hexBytes('fffffffe0000000b')))).toEqual({ xid: -2, type: OpCode.ping });
    const reply = { xid: -2, zxid: 0x100000003n, err: -101 };
    expect(bytesOf((w) => writeReplyHeader(w, reply))).toBe('fffffffe' + '0000000100000003' + 'ffffff9b');
    expect(readReplyHeader(new JuteReader(hexBytes('fffffffe0000000100000003ffffff9b')))).toEqual(reply);
  });

  it('MultiHeader: type, done byte, err', () => {
    expect(bytesOf((w) => writeMultiHeader(w, { type: -1, done: true, err: -1 }))).toBe('ffffffff01ffffffff');
    expect(readMultiHeader(new JuteReader(hexBytes('0000000d00ffffffff')))).toEqual({ type: 13, done: false, err: -1 });
  });

  it('WatcherEvent', () => {
    const ev = { type: 3, state: 3, path: '/a' };
    expect(bytesOf((w) => writeWatcherEvent(w, ev))).toBe('00000003' + '00000003' + '00000002' + '2f61');
    expect(readWatcherEvent(new JuteReader(hexBytes('000000030000000300000002' + '2f61')))).toEqual(ev);
  });
});

describe('jute handshake', () => {
  const base = { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 0n, passwd: new Uint8Array(16) };
  const body44 = '00000000' + '0000000000000000' + '00007530' + '0000000000000000' + '00000010' + '00'.repeat(16);

  it('ConnectRequest without readOnly (node-zookeeper-client): 44-byte payload, frame length 44', () => {
    const frame = encodeConnectRequestFrame(base);
    expect(toHex(frame)).toBe('0000002c' + body44);
    const back = decodeConnectRequest(frame.subarray(4));
    expect(back.readOnly).toBeUndefined();
    expect(back).toEqual(base);
  });

  it('ConnectRequest with readOnly (Java, C, kazoo): 45 bytes, flag detected by length', () => {
    const frame = encodeConnectRequestFrame({ ...base, readOnly: true });
    expect(toHex(frame)).toBe('0000002d' + body44 + '01');
    expect(decodeConnectRequest(frame.subarray(4)).readOnly).toBe(true);
    expect(decodeConnectRequest(hexBytes(body44 + '00')).readOnly).toBe(false);
  });

  it('ConnectResponse: readOnly written only when the request had it; decodes either form', () => {
    const res = { protocolVersion: 0, timeOut: 4000, sessionId: 0x10000a1b2c3d4n, passwd: hexBytes('00112233445566778899aabbccddeeff') };
    const short = encodeConnectResponseFrame(res);
    expect(toHex(short)).toBe('00000024' + '00000000' + '00000fa0' + '00010000a1b2c3d4' + '00000010' + '00112233445566778899aabbccddeeff');
    expect(decodeConnectResponse(short.subarray(4))).toEqual(res);
    const long = encodeConnectResponseFrame({ ...res, readOnly: false });
    expect(long.length).toBe(short.length + 1);
    expect(decodeConnectResponse(long.subarray(4))).toEqual({ ...res, readOnly: false });
  });

  it('ConnectRequest truncated inside passwd → JuteUnderflow', () => {
    expect(() => decodeConnectRequest(hexBytes(body44).subarray(0, 40))).toThrow(/more bytes/);
  });
});

describe('jute frames', () => {
  it('request frame: header + body, length-prefixed', () => {
    const frame = encodeRequestFrame(7, { type: OpCode.exists, req: { path: '/a', watch: true } });
    expect(toHex(frame)).toBe('0000000f' + '00000007' + '00000003' + '00000002' + '2f61' + '01');
    const { header, request } = decodeRequestFrame(frame.subarray(4));
    expect(header).toEqual({ xid: 7, type: OpCode.exists });
    expect(request).toEqual({ type: OpCode.exists, req: { path: '/a', watch: true } });
  });

  it('ping frame: header only', () => {
    expect(toHex(encodeRequestFrame(-2, { type: OpCode.ping, req: null }))).toBe('00000008' + 'fffffffe' + '0000000b');
  });

  it('reply frame: no body after a non-zero err', () => {
    const frame = encodeReplyFrame({ xid: 3, zxid: 5n, err: -101 }, { type: OpCode.exists, stat });
    expect(toHex(frame)).toBe('00000010' + '00000003' + '0000000000000005' + 'ffffff9b');
    const ok = encodeReplyFrame({ xid: 3, zxid: 5n, err: 0 }, { type: OpCode.exists, stat });
    expect(toHex(ok)).toBe('00000054' + '00000003' + '0000000000000005' + '00000000' + statHex);
  });

  it('notification frame: xid -1 + WatcherEvent', () => {
    const frame = encodeNotificationFrame(0x100000009n, { type: 4, state: 3, path: '/p' });
    expect(toHex(frame)).toBe('0000001e' + 'ffffffff' + '0000000100000009' + '00000000' + '00000004' + '00000003' + '00000002' + '2f70');
    const { header, body } = decodeReplyHeader(frame.subarray(4));
    expect(header.xid).toBe(-1);
    expect(decodeNotification(body)).toEqual({ type: 4, state: 3, path: '/p' });
  });
});
