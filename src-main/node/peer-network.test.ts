import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sid } from '../zab/quorum';
import type { ZabMessage } from '../zab/types';
import { createLogger } from './log';
import { DelayedWriter, FaultTable, QuorumNetwork } from './peer-network';

/** A real TCP pair on 127.0.0.1: the writer's socket and what the other end has read. */
async function socketPair(): Promise<{ socket: net.Socket; received: () => string; close: () => Promise<void> }> {
  let text = '';
  let peer: net.Socket | null = null;
  const server = net.createServer((s) => {
    peer = s;
    s.on('data', (c: Buffer) => (text += c.toString('utf8')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', r));
  return {
    socket,
    received: () => text,
    close: async () => {
      socket.destroy();
      (peer as net.Socket | null)?.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function until(what: string, ok: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('link fault table', () => {
  it('isolate: both directions blocked for that server only', () => {
    const f = new FaultTable();
    f.set([
      { from: 2, to: '*', drop: true },
      { from: '*', to: 2, drop: true },
    ]);
    expect(f.blocked(2, 1)).toBe(true);
    expect(f.blocked(3, 2)).toBe(true);
    expect(f.blocked(1, 3)).toBe(false);
    expect(f.cut(1, 2)).toBe(true);
    expect(f.cut(1, 3)).toBe(false);
  });
  it('one-way loss cuts the TCP link (either direction blocked) but blocks messages one way', () => {
    const f = new FaultTable();
    f.set([{ from: 1, to: 3, drop: true }]);
    expect(f.blocked(1, 3)).toBe(true);
    expect(f.blocked(3, 1)).toBe(false);
    expect(f.cut(3, 1)).toBe(true);
  });
  it('delays: the largest matching rule wins; heal clears', () => {
    const f = new FaultTable();
    f.set([
      { from: 1, to: '*', delayMs: 50 },
      { from: 1, to: 2, delayMs: 200 },
    ]);
    expect(f.delayMs(1, 2)).toBe(200);
    expect(f.delayMs(1, 3)).toBe(50);
    expect(f.delayMs(2, 1)).toBe(0);
    f.set([]);
    expect(f.delayMs(1, 2)).toBe(0);
    expect(f.all).toEqual([]);
  });
});

describe('DelayedWriter: a delayed link over a real socket', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });
  const bytes = (t: string) => new TextEncoder().encode(t);

  it('heal: frames already waiting for a long delay go out at once, in order; later ones follow them', async () => {
    const pair = await socketPair();
    closers.push(pair.close);
    const faults = new FaultTable();
    faults.set([{ from: 1, to: 2, delayMs: 60_000 }]);
    const w = new DelayedWriter(pair.socket, faults, 1, 2);
    for (const t of ['a', 'b', 'c']) w.write(bytes(t), faults.delayMs(1, 2));
    expect(pair.received()).toBe('');
    faults.set([]);
    w.write(bytes('d'), faults.delayMs(1, 2));
    await until('the held frames after heal', () => pair.received() === 'abcd', 5_000);
  });

  it('a shorter delay re-times waiting frames from when they were sent; other links keep theirs', async () => {
    const pair = await socketPair();
    closers.push(pair.close);
    const faults = new FaultTable();
    faults.set([{ from: 1, to: 2, delayMs: 60_000 }]);
    const w = new DelayedWriter(pair.socket, faults, 1, 2);
    const sentAt = Date.now();
    w.write(bytes('x'), faults.delayMs(1, 2));
    faults.set([{ from: 1, to: 2, delayMs: 150 }, { from: 3, to: 2, delayMs: 60_000 }]);
    await until('the re-timed frame', () => pair.received() === 'x', 5_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(140);
    // a writer with nothing waiting holds no subscription: stop() after the fact is harmless
    w.stop();
  });

  it('without a delay, frames go out in this turn; stop() drops what waits for a delay', async () => {
    const pair = await socketPair();
    closers.push(pair.close);
    const faults = new FaultTable();
    const w = new DelayedWriter(pair.socket, faults, 1, 2);
    w.write(bytes('now'), 0);
    await until('the undelayed frame', () => pair.received() === 'now', 5_000);
    faults.set([{ from: 1, to: 2, delayMs: 60_000 }]);
    w.write(bytes('later'), faults.delayMs(1, 2));
    w.stop();
    faults.set([]);
    w.write(bytes('!'), 0);
    await until('the frame after stop', () => pair.received() === 'now!', 5_000);
  });
});

// ---- real sockets on 127.0.0.1 ----------------------------------------------------------------

/** a connected socket pair; the server side collects what arrives */
async function bytePair(): Promise<{ client: net.Socket; server: net.Socket; received: () => Buffer; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  let server: net.Socket | null = null;
  const listener = net.createServer((s) => {
    server = s;
    s.on('data', (c: Buffer) => chunks.push(c));
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as net.AddressInfo).port;
  const client = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((r) => client.once('connect', r));
  await waitFor(() => server !== null, 'accepted');
  return {
    client,
    server: server as unknown as net.Socket,
    received: () => Buffer.concat(chunks),
    close: async () => {
      client.destroy();
      (server as unknown as net.Socket | null)?.destroy();
      await new Promise<void>((r) => listener.close(() => r()));
    },
  };
}

async function waitFor(cond: () => boolean, what: string, deadlineMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const frameOf = (i: number): Uint8Array => Uint8Array.from([0, 0, 0, 1, i & 0xff]);

describe('peer link writer', () => {
  it('frames written in one event-loop turn go out in one socket write, in order', async () => {
    const p = await bytePair();
    try {
      let writes = 0;
      const write = p.client.write.bind(p.client) as (b: Uint8Array) => boolean;
      p.client.write = ((b: Uint8Array) => {
        writes += 1;
        return write(b);
      }) as typeof p.client.write;
      const w = new DelayedWriter(p.client, new FaultTable(), 1, 2);
      for (let i = 0; i < 100; i++) w.write(frameOf(i), 0);
      expect(writes).toBe(0); // nothing before the turn ends
      await waitFor(() => p.received().length === 500, 'all frames');
      expect(writes).toBe(1);
      expect([...p.received()].filter((_, k) => k % 5 === 4)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await p.close();
    }
  });

  it('stop() before a close still sends what this turn queued (the last COMMITANDACTIVATE of a leader that hands over)', async () => {
    const p = await bytePair();
    try {
      const w = new DelayedWriter(p.client, new FaultTable(), 1, 2);
      w.write(frameOf(7), 0);
      w.write(frameOf(8), 0);
      w.stop();
      p.client.end();
      await waitFor(() => p.received().length === 10, 'both frames');
      expect([...p.received()].filter((_, k) => k % 5 === 4)).toEqual([7, 8]);
    } finally {
      await p.close();
    }
  });

  it('a delayed frame keeps its place: what was queued before it goes first, later frames wait behind it', async () => {
    const p = await bytePair();
    try {
      const w = new DelayedWriter(p.client, new FaultTable(), 1, 2);
      w.write(frameOf(1), 0);
      w.write(frameOf(2), 30);
      w.write(frameOf(3), 0);
      await waitFor(() => p.received().length === 15, 'three frames');
      expect([...p.received()].filter((_, k) => k % 5 === 4)).toEqual([1, 2, 3]);
    } finally {
      await p.close();
    }
  });
});

describe('quorum network: learners that dial while this server is still electing', () => {
  const silent = createLogger('test', { out: () => {}, err: () => {} });

  async function twoPeers(): Promise<{ leader: QuorumNetwork; learner: QuorumNetwork; got: ZabMessage[]; lost: Sid[]; close: () => Promise<void> }> {
    const ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
    const a = { sid: 1, host: '127.0.0.1', quorumPort: ports[0] as number, electionPort: ports[1] as number };
    const b = { sid: 2, host: '127.0.0.1', quorumPort: ports[2] as number, electionPort: ports[3] as number };
    const got: ZabMessage[] = [];
    const lost: Sid[] = [];
    const leader = new QuorumNetwork({ myid: 1, self: a, peers: new Map([[2, b]]), faults: new FaultTable(), log: silent, onMessage: (_f, m) => got.push(m), onDisconnected: () => {} });
    const learner = new QuorumNetwork({ myid: 2, self: b, peers: new Map([[1, a]]), faults: new FaultTable(), log: silent, onMessage: () => {}, onDisconnected: (peer) => lost.push(peer) });
    await leader.listen();
    await learner.listen();
    return { leader, learner, got, lost, close: async () => void (await Promise.all([leader.close(), learner.close()])) };
  }
  const hello: ZabMessage = { type: 'FOLLOWERINFO', sid: 2, acceptedEpoch: 1, protocolVersion: 0x10000 };

  it('parked while electing, taken by the leader once it leads (no refusal, no redial)', async () => {
    const n = await twoPeers();
    try {
      n.leader.setAccepting('park');
      n.learner.send(1, hello);
      await waitFor(() => n.leader.parkedWithData() === 1, 'the learner parked with its FOLLOWERINFO');
      expect(n.got).toEqual([]);
      expect(n.lost).toEqual([]);
      n.leader.setAccepting('accept');
      await waitFor(() => n.got.length === 1, 'FOLLOWERINFO at the leader');
      expect(n.got[0]).toEqual(hello);
      expect(n.lost).toEqual([]);
    } finally {
      await n.close();
    }
  });

  it('parked while electing, closed when this server decides to follow', async () => {
    const n = await twoPeers();
    try {
      n.leader.setAccepting('park');
      n.learner.send(1, hello);
      await waitFor(() => n.leader.parkedWithData() === 1, 'the learner parked with its FOLLOWERINFO');
      n.leader.setAccepting('refuse');
      await waitFor(() => n.lost.length === 1, 'the learner sees the close');
      expect(n.got).toEqual([]);
    } finally {
      await n.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
