/**
 * The supervisor's files after a run: logs/trace.ndjson holds every trace event the servers
 * sent, and logs/server.log every log line, once shutdown resolves
 * (they are written asynchronously, off the supervisor's event loop; append-writer.test.ts
 * checks the order).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src-main/client/index';
import type { TraceEvent } from '../../src-main/common/trace';
import { Ensemble } from '../../src-main/supervisor/ensemble';

describe('supervisor: trace and log files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-trace-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('after shutdown, trace.ndjson has every relayed event and server.log every log line', async () => {
    const e = await Ensemble.start({ servers: 3, tickTimeMs: 200, dir, removeDirOnShutdown: false });
    const relayed: TraceEvent[] = [];
    const logged = new Map<number, string[]>();
    e.on('trace', (batch) => relayed.push(...batch));
    e.on('serverLog', ({ server, lines }) => logged.set(server, [...(logged.get(server) ?? []), ...lines]));
    try {
      const c = await connectClient(e.connectionString, { sessionTimeoutMs: 5000 }, 20_000);
      for (let i = 0; i < 200; i++) await c.create(`/trace-${i}`, `data ${i}`);
      await c.close();
    } finally {
      await e.shutdown();
    }
    const fromFiles: TraceEvent[] = [];
    for (const id of [1, 2, 3]) {
      const lines = readFileSync(join(dir, `server${id}`, 'logs', 'trace.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
      const events = lines.map((l) => JSON.parse(l) as TraceEvent);
      fromFiles.push(...events);
      expect(events.every((ev) => ev.server === id)).toBe(true);
      const log = readFileSync(join(dir, `server${id}`, 'logs', 'server.log'), 'utf8');
      expect(log).toContain('stopping pid');
      expect(log).toContain('exited with code');
    }
    // the relay started listening after start: the files have at least those, and each of them
    expect(relayed.length).toBeGreaterThan(200);
    const key = (t: TraceEvent): string => JSON.stringify(t);
    const inFiles = new Set(fromFiles.map(key));
    expect(relayed.filter((t) => !inFiles.has(key(t)))).toEqual([]);
  }, 60_000);
});
