import { describe, expect, it } from 'vitest';
import type { ClientConnection } from './client-listener';
import { ReadThrottle } from './read-throttle';

function fakeConn(id: number): ClientConnection & { reading: boolean } {
  const c = {
    id,
    remote: '127.0.0.1:1',
    closed: false,
    reading: true,
    sendFrame() {},
    sendFramed() {},
    sendReply() {},
    markEstablished() {},
    close() {
      c.closed = true;
    },
    pauseReading() {
      c.reading = false;
    },
    resumeReading() {
      c.reading = true;
    },
  };
  return c;
}

describe('read throttle', () => {
  it('pauses above the high water mark, resumes at half of it', () => {
    let backlog = 0;
    const t = new ReadThrottle(() => backlog, 100);
    const c = fakeConn(1);
    backlog = 100;
    t.afterFrames(c);
    expect(c.reading).toBe(true);
    backlog = 101;
    t.afterFrames(c);
    expect(c.reading).toBe(false);
    backlog = 60;
    t.afterPump();
    expect(c.reading).toBe(false);
    backlog = 50;
    t.afterPump();
    expect(c.reading).toBe(true);
  });
  it('forgets closed connections', () => {
    let backlog = 500;
    const t = new ReadThrottle(() => backlog, 100);
    const c = fakeConn(2);
    t.afterFrames(c);
    (c as { closed: boolean }).closed = true;
    backlog = 0;
    t.afterPump();
    expect(c.reading).toBe(false);
  });
});

describe('read throttle: server-wide bound', () => {
  it('pauses every connection that sends while the global backlog is above its mark; resumes them below half', () => {
    let global = 0;
    const t = new ReadThrottle(() => 0, 100, { backlog: () => global, highWater: 10 });
    const a = fakeConn(1);
    const b = fakeConn(2);
    t.afterFrames(a);
    expect(a.reading).toBe(true);
    global = 11;
    t.afterFrames(a);
    t.afterFrames(b);
    expect([a.reading, b.reading]).toEqual([false, false]);
    global = 6;
    t.afterPump();
    expect([a.reading, b.reading]).toEqual([false, false]);
    global = 5;
    t.afterPump();
    expect([a.reading, b.reading]).toEqual([true, true]);
  });
});
