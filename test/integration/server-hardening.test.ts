/**
 * Where ZooLab must do better than Apache ZooKeeper 3.8 (protocol notes §9), on a real server
 * process: replies stay in request order even around an unknown opcode; a wrong password does
 * not disconnect the session's owner; a createSession inside a session is refused; a top-level
 * check (op 13) is never logged as a txn (the server restarts from its log); an idle
 * connection that never sends a handshake is closed after a deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-main/common/error-codes';
import { encodeRequestFrame, OpCode } from '../../src-main/jute/index';
import { RawConnection } from '../compat/raw-connection';
import { startZooLabServer, zoolabBuilt, type ZooLabServer } from '../compat/zoolab-process';

const skip = !zoolabBuilt();

function closedWithin(conn: RawConnection, ms: number): Promise<boolean> {
  return Promise.race([conn.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

describe.skipIf(skip)('server hardening: where ZooLab does better than ZooKeeper 3.8', () => {
  let server: ZooLabServer;
  beforeAll(async () => {
    server = await startZooLabServer({ tickTimeMs: 500 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('an unknown opcode inside a pipeline is answered after the earlier replies, then the connection closes', async () => {
    const c = await RawConnection.open(server.port);
    try {
      expect((await c.handshake())?.timeOut).toBeGreaterThan(0);
      const unknown = new Uint8Array([0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0x03, 0xe7]); // xid 3, op 999
      c.write(encodeRequestFrame(1, { type: OpCode.exists, req: { path: '/', watch: false } }));
      c.write(encodeRequestFrame(2, { type: OpCode.getChildren, req: { path: '/', watch: false } }));
      c.write(unknown);
      c.write(encodeRequestFrame(4, { type: OpCode.exists, req: { path: '/', watch: false } }));
      const r1 = await c.replyTo(1);
      const r2 = await c.replyTo(2);
      const r3 = await c.replyTo(3);
      expect([r1?.header.err, r2?.header.err, r3?.header.err]).toEqual([ErrorCode.OK, ErrorCode.OK, ErrorCode.UNIMPLEMENTED]);
      expect(await closedWithin(c, 5000), 'closed after the UNIMPLEMENTED reply').toBe(true);
    } finally {
      c.destroy();
    }
  });

  it("a resume with a wrong password gets the invalid-session answer and leaves the owner's connection alone", async () => {
    const owner = await RawConnection.open(server.port);
    const intruder = await RawConnection.open(server.port);
    try {
      const hello = await owner.handshake();
      expect(hello?.timeOut).toBeGreaterThan(0);
      const answer = await intruder.handshake({ sessionId: hello!.sessionId, passwd: new Uint8Array(16).fill(0x5a) });
      expect(answer === null || answer.timeOut === 0, 'no session for a wrong password').toBe(true);
      const r = await owner.request({ type: OpCode.exists, req: { path: '/', watch: false } });
      expect(r?.header.err, "the owner's connection still serves").toBe(ErrorCode.OK);
      expect(owner.isClosed).toBe(false);
    } finally {
      owner.destroy();
      intruder.destroy();
    }
  });

  it('a resume with the right password moves the session: the old connection is closed, the new one serves', async () => {
    const first = await RawConnection.open(server.port);
    const second = await RawConnection.open(server.port);
    try {
      const hello = await first.handshake();
      const again = await second.handshake({ sessionId: hello!.sessionId, passwd: hello!.passwd });
      expect(again?.sessionId).toBe(hello!.sessionId);
      expect(await closedWithin(first, 5000), 'the old connection of the session is closed').toBe(true);
      const r = await second.request({ type: OpCode.exists, req: { path: '/', watch: false } });
      expect(r?.header.err).toBe(ErrorCode.OK);
    } finally {
      first.destroy();
      second.destroy();
    }
  });

  it('a createSession (-10) sent inside a session is refused: that connection is closed, the session untouched elsewhere', async () => {
    const c = await RawConnection.open(server.port);
    try {
      await c.handshake();
      // CreateSessionTxn body: timeOut int
      const frame = new Uint8Array([0, 0, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xf6, 0, 0, 0x75, 0x30]);
      c.write(frame);
      const reply = await c.replyTo(1, 5000).catch(() => null);
      expect(reply === null || reply.header.err !== ErrorCode.OK, 'not accepted').toBe(true);
      expect(await closedWithin(c, 5000)).toBe(true);
      expect((await server.fourLetterWord('ruok')).trim()).toBe('imok');
    } finally {
      c.destroy();
    }
  });

  it('a top-level check (op 13) is not logged as a txn: after kill -9 the server recovers and serves', async () => {
    const c = await RawConnection.open(server.port);
    try {
      await c.handshake();
      const created = await c.request({ type: OpCode.create, req: { path: '/checked', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 } });
      expect(created?.header.err).toBe(ErrorCode.OK);
      c.write(encodeRequestFrame(2, { type: OpCode.check, req: { path: '/checked', version: 0 } } as never));
      const reply = await c.replyTo(2, 5000).catch(() => null);
      // refused (UNIMPLEMENTED, connection closed) or answered as a read-only version check
      if (reply !== null) expect([ErrorCode.OK, ErrorCode.UNIMPLEMENTED, ErrorCode.BADVERSION, ErrorCode.BADARGUMENTS]).toContain(reply.header.err);
    } finally {
      c.destroy();
    }
    await server.kill();
    await server.restart();
    const d = await RawConnection.open(server.port);
    try {
      await d.handshake();
      const r = await d.request({ type: OpCode.exists, req: { path: '/checked', watch: false } });
      expect(r?.header.err).toBe(ErrorCode.OK);
    } finally {
      d.destroy();
    }
  });

  it('a connection that never sends its handshake is closed after a deadline', async () => {
    const idle = await RawConnection.open(server.port);
    try {
      expect(await closedWithin(idle, 20_000), 'closed by the server within 20 s').toBe(true);
    } finally {
      idle.destroy();
    }
  }, 30_000);
});
