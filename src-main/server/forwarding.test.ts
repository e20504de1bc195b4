import { describe, expect, it } from 'vitest';
import { JuteWriter } from '../jute/buffer';
import { encodeRequest } from '../jute/requests';
import type { Request } from '../jute/types';
import { OpCode } from '../jute/types';
import { decodeForwarded, encodeForwarded } from './forwarding';

const setData: Request = { type: OpCode.setData, req: { path: '/a/b', data: new Uint8Array([1, 2, 3]), version: -1 } };
const authIds = [{ scheme: 'digest', id: 'ann:xyz' }];

describe('forwarded requests', () => {
  it("a write's bytes as the client sent them forward as the same bytes as the request encoded again", () => {
    const w = new JuteWriter(64);
    encodeRequest(w, setData);
    const body = w.take();
    const fromBody = encodeForwarded({ kind: 'request', request: setData, authIds, body });
    expect(fromBody).toEqual(encodeForwarded({ kind: 'request', request: setData, authIds }));
    expect(decodeForwarded(fromBody)).toEqual({ kind: 'request', request: setData, authIds });
  });

  it('createSession round-trips', () => {
    expect(decodeForwarded(encodeForwarded({ kind: 'createSession', timeoutMs: 4000 }))).toEqual({ kind: 'createSession', timeoutMs: 4000 });
  });
});
