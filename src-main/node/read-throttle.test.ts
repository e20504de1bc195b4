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
