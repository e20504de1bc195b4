import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppendWriter } from './append-writer';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-append-'));
  dirs.push(dir);
  return join(dir, 'out.ndjson');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('AppendWriter', () => {
  it('keeps order across many appends made while writes are in flight; flush resolves when all is written', async () => {
    const path = tempFile();
    const w = new AppendWriter(path);
    const expected: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const line = `{"t":${i},"n":"line ${i}"}\n`;
      expected.push(line);
      w.append(line);
      // some appends land while a write is in flight, some between writes
      if (i % 997 === 0) await new Promise((r) => setImmediate(r));
    }
    await w.flush();
    expect(readFileSync(path, 'utf8')).toBe(expected.join(''));
  });

  it('append does not write by itself: nothing is in the file until the event loop runs', async () => {
    const path = tempFile();
    const w = new AppendWriter(path);
    w.append('a\n');
    expect(existsSync(path)).toBe(false);
    await w.flush();
    expect(readFileSync(path, 'utf8')).toBe('a\n');
    // flush with nothing pending resolves at once
    await w.flush();
  });

  it('flush resolves under a steady stream: it waits for what came before it, not after', async () => {
    const path = tempFile();
    const w = new AppendWriter(path);
    let stop = false;
    let n = 0;
    const producer = (async () => {
      // bounded: stops once flush resolved, or after 1 000 000 lines (100 000 loop turns:
      // room for a slow thread-pool write on a loaded machine)
      while (!stop && n < 1_000_000) {
        w.append(`line ${n++}\n`);
        if (n % 10 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 10_000 && n < 1000; i++) await new Promise((r) => setImmediate(r));
    const before = n;
    await w.flush();
    stop = true;
    await producer;
    expect(n).toBeLessThan(1_000_000);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.length).toBeGreaterThan(before);
    expect(lines[before - 1]).toBe(`line ${before - 1}`);
    await w.flush();
  });

  it.runIf(process.platform === 'linux')('the file stays open while text keeps coming and is closed once a flush finds nothing more', async () => {
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const path = tempFile();
    const before = openFds();
    const w = new AppendWriter(path, undefined, 60_000); // no idle close within the test
    w.append('one\n');
    await w.flush(); // the only text: written, then closed
    expect(openFds()).toBe(before);
    const waitWritten = async (text: string): Promise<void> => {
      for (let i = 0; i < 2000 && readFileSync(path, 'utf8') !== text; i++) await new Promise((r) => setTimeout(r, 2));
    };
    w.append('two\n');
    await waitWritten('one\ntwo\n'); // written by the timed drain, not by a flush: kept open for more
    expect(openFds()).toBe(before + 1);
    w.append('three\n');
    await w.flush();
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\nthree\n');
    expect(openFds()).toBe(before);
  });

  it.runIf(process.platform === 'linux')('an open file is closed once nothing came for the idle time', async () => {
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const path = tempFile();
    const before = openFds();
    const w = new AppendWriter(path, undefined, 20);
    w.append('x\n');
    for (let i = 0; i < 2500 && !(existsSync(path) && readFileSync(path, 'utf8') === 'x\n' && openFds() === before); i++) await new Promise((r) => setTimeout(r, 2));
    expect(readFileSync(path, 'utf8')).toBe('x\n');
    expect(openFds()).toBe(before);
  });

  it('flushSync writes what is still buffered (the process-exit path)', () => {
    const path = tempFile();
    const w = new AppendWriter(path);
    w.append('first\n');
    w.append('second\n');
    w.flushSync();
    expect(readFileSync(path, 'utf8')).toBe('first\nsecond\n');
  });

  it('past the buffer bound, new text is dropped and a note says how much, in place', async () => {
    const path = tempFile();
    const w = new AppendWriter(path, 10);
    w.append('12345\n');
    w.append('67890\n'); // 12 > 10 buffered: dropped
    await w.flush();
    w.append('after\n');
    await w.flush();
    expect(readFileSync(path, 'utf8').split('\n')).toEqual(['12345', expect.stringContaining('dropped 6 characters'), 'after', '']);
  });

  it('a folder that is gone is not an error: flush still resolves', async () => {
    const w = new AppendWriter(join(tmpdir(), 'zoolab-no-such-dir-for-append', 'x', 'trace.ndjson'));
    w.append('lost\n');
    await expect(w.flush()).resolves.toBeUndefined();
  });
});
