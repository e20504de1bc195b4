/** The bench's minimal client sends exactly the bytes of the real codec (src-main/jute). */
import { describe, expect, it } from 'vitest';
import { Acls } from '../../src-main/client/index';
import { OpCode, encodeConnectRequestFrame, encodeRequestFrame } from '../../src-main/jute/index';
import { OP, connectRequestFrame, createBody, getDataBody, requestFrame, setDataBody } from './wire.mjs';

const bytes = (b: Uint8Array): number[] => [...b];

describe('bench wire frames', () => {
  it('ConnectRequest: 45-byte payload with readOnly, as jute encodes it', () => {
    const ours = connectRequestFrame(30_000);
    const jute = encodeConnectRequestFrame({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false });
    expect(bytes(ours)).toEqual(bytes(jute));
  });

  it('create with data and world:anyone ALL, as jute encodes it', () => {
    const data = Buffer.from('hello');
    const ours = requestFrame(7, OP.create, createBody('/bench/c-1', data));
    const jute = encodeRequestFrame(7, { type: OpCode.create, req: { path: '/bench/c-1', data, acl: Acls.OPEN_ACL_UNSAFE, flags: 0 } });
    expect(bytes(ours)).toEqual(bytes(jute));
  });

  it('create with null data: length -1', () => {
    const ours = requestFrame(1, OP.create, createBody('/n', null, 1));
    const jute = encodeRequestFrame(1, { type: OpCode.create, req: { path: '/n', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: 1 } });
    expect(bytes(ours)).toEqual(bytes(jute));
  });

  it('getData and setData, as jute encodes them', () => {
    expect(bytes(requestFrame(2, OP.getData, getDataBody('/g', true)))).toEqual(bytes(encodeRequestFrame(2, { type: OpCode.getData, req: { path: '/g', watch: true } })));
    const v = Buffer.alloc(100, 0x7a);
    expect(bytes(requestFrame(3, OP.setData, setDataBody('/s', v, -1)))).toEqual(bytes(encodeRequestFrame(3, { type: OpCode.setData, req: { path: '/s', data: v, version: -1 } })));
  });
});
