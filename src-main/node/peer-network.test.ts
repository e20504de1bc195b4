import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DelayedWriter, FaultTable } from './peer-network';

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

  it('without a delay, frames are written at once; stop() drops what waits', async () => {
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
