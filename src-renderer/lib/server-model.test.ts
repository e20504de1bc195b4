import { describe, expect, it } from 'vitest';
import type { EnsembleView, ServerView } from '../../src-main/api/contract';
import { batchPerFrame, latestPerFrame } from './frame-batch';
import { availableActions, roleLabel, sortedServers, splitZxid, stateLabel, stateTone, summarize } from './server-model';

function server(id: number, patch: Partial<ServerView> = {}): ServerView {
  return {
    id,
    host: '127.0.0.1',
    clientPort: 2180 + id,
    quorumPort: 2880 + id,
    electionPort: 3880 + id,
    state: 'running',
    pid: 1000 + id,
    role: 'follower',
    lastZxid: '0x100000002',
    epoch: 1,
    connections: 0,
    dir: `/tmp/e/server${id}`,
    dataDir: `/tmp/e/server${id}/data`,
    configPath: `/tmp/e/server${id}/zoo.cfg`,
    lastError: null,
    ...patch,
  };
}

function ensemble(servers: ServerView[]): EnsembleView {
  return { dir: '/tmp/e', connectionString: servers.map((s) => `127.0.0.1:${s.clientPort}`).join(','), servers };
}

describe('server model', () => {
  it('actions: a running server can be killed, stopped, restarted, paused but not started', () => {
    expect(availableActions(server(1))).toEqual({ kill: true, stop: true, start: false, restart: true, pause: true, resume: false });
  });
  it('actions: a crashed server can be started or restarted, not killed', () => {
    expect(availableActions(server(1, { state: 'crashed', pid: null }))).toEqual({ kill: false, stop: false, start: true, restart: true, pause: false, resume: false });
  });
  it('actions: a paused server offers resume and kill, not pause or stop', () => {
    const a = availableActions(server(1, { paused: true }));
    expect(a.resume).toBe(true);
    expect(a.pause).toBe(false);
    expect(a.stop).toBe(false);
    expect(a.kill).toBe(true);
  });
  it('tone and label follow the state, paused wins', () => {
    expect(stateTone(server(1, { state: 'crashed' }))).toBe('bad');
    expect(stateTone(server(1, { state: 'starting' }))).toBe('busy');
    expect(stateLabel(server(1, { paused: true }))).toBe('paused');
  });
  it('roles use ZooKeeper words', () => {
    expect(roleLabel('leader')).toBe('LEADING');
    expect(roleLabel('looking')).toBe('LOOKING');
    expect(roleLabel('unknown')).toBe('—');
  });
  it('splitZxid: epoch is the high 32 bits', () => {
    expect(splitZxid('0x100000003')).toEqual({ epoch: 1, counter: 3 });
    expect(splitZxid('0x0')).toEqual({ epoch: 0, counter: 0 });
    expect(splitZxid(null)).toBeNull();
    expect(splitZxid('zz')).toBeNull();
  });
  it('summary: 2 of 3 voters up keeps the quorum; 1 of 3 loses it', () => {
    const e = ensemble([server(1, { role: 'leader' }), server(2, { state: 'crashed' }), server(3)]);
    expect(summarize(e)).toMatchObject({ total: 3, running: 2, quorum: 2, hasQuorum: true, leader: 1 });
    const worse = ensemble([server(1, { state: 'stopped', role: 'unknown' }), server(2, { state: 'crashed' }), server(3, { role: 'looking' })]);
    expect(summarize(worse)).toMatchObject({ running: 1, hasQuorum: false, leader: null });
  });
  it('summary: observers do not count toward the quorum', () => {
    const e = ensemble([server(1, { role: 'leader' }), server(2), server(3), server(4, { role: 'observer' })]);
    expect(summarize(e)).toMatchObject({ voters: 3, quorum: 2 });
  });
  it('servers are listed in id order', () => {
    expect(sortedServers(ensemble([server(3), server(1), server(2)])).map((s) => s.id)).toEqual([1, 2, 3]);
    expect(sortedServers(null)).toEqual([]);
  });
});

describe('frame batching', () => {
  function manualFrames() {
    const queue: (() => void)[] = [];
    return { schedule: (run: () => void) => void queue.push(run), flush: () => queue.splice(0).forEach((r) => r()), size: () => queue.length };
  }
  it('latestPerFrame applies only the last value, once per frame', () => {
    const f = manualFrames();
    const seen: number[] = [];
    const push = latestPerFrame<number>(f.schedule, (v) => seen.push(v));
    push(1);
    push(2);
    push(3);
    expect(f.size()).toBe(1);
    f.flush();
    push(4);
    f.flush();
    expect(seen).toEqual([3, 4]);
  });
  it('batchPerFrame delivers every item in order, keeping the newest when over the bound', () => {
    const f = manualFrames();
    const seen: number[][] = [];
    const push = batchPerFrame<number>(f.schedule, (items) => seen.push(items), 4);
    push([1, 2]);
    push([3]);
    f.flush();
    push([4, 5, 6, 7, 8, 9]);
    f.flush();
    expect(seen).toEqual([[1, 2, 3], [6, 7, 8, 9]]);
  });
});
