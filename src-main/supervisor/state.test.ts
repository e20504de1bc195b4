import { describe, expect, it } from 'vitest';
import { initialLifecycle, transition } from './state';
import type { LifecycleEvent, ServerLifecycle } from './state';

function run(events: LifecycleEvent[], from: ServerLifecycle = initialLifecycle()): ServerLifecycle {
  let s = from;
  for (const e of events) {
    const t = transition(s, e);
    if (!t.ok) throw new Error(t.reason);
    s = t.next;
  }
  return s;
}
const exit = (signal: string | null = null, code: number | null = null, lastWords: string | null = null): LifecycleEvent => ({ type: 'exited', code, signal, lastWords });

describe('server lifecycle', () => {
  it('start → spawned → srvr answers → running', () => {
    const s = run([{ type: 'start' }, { type: 'spawned', pid: 42 }, { type: 'serving' }]);
    expect(s).toMatchObject({ state: 'running', pid: 42, lastError: null });
  });
  it('stop → stopping → exit → stopped, no error', () => {
    const s = run([{ type: 'start' }, { type: 'spawned', pid: 1 }, { type: 'serving' }, { type: 'stop' }]);
    expect(s.state).toBe('stopping');
    expect(run([exit(null, 0)], s)).toMatchObject({ state: 'stopped', pid: null, lastError: null });
  });
  it('kill -9 asked for → stopped, not crashed', () => {
    expect(run([{ type: 'start' }, { type: 'spawned', pid: 1 }, { type: 'serving' }, { type: 'kill' }, exit('SIGKILL')]).state).toBe('stopped');
  });
  it('unexpected exit while running → crashed with how and the last problem', () => {
    const s = run([{ type: 'start' }, { type: 'spawned', pid: 1 }, { type: 'serving' }, exit('SIGKILL')]);
    expect(s).toMatchObject({ state: 'crashed', lastError: 'killed by SIGKILL' });
    const t = run([{ type: 'start' }, { type: 'spawned', pid: 1 }, exit(null, 1, 'PORT_IN_USE: client port 127.0.0.1:2181 is already in use')]);
    expect(t.lastError).toBe('exited with code 1: PORT_IN_USE: client port 127.0.0.1:2181 is already in use');
  });
  it('giving up on a slow start → crashed with that reason even though we killed it', () => {
    const s = run([{ type: 'start' }, { type: 'spawned', pid: 1 }, { type: 'giveUp', error: 'did not answer srvr' }, exit('SIGKILL')]);
    expect(s).toMatchObject({ state: 'crashed', lastError: 'did not answer srvr' });
  });
  it('spawn failure → crashed', () => {
    expect(run([{ type: 'start' }, { type: 'spawnFailed', error: 'no node' }])).toMatchObject({ state: 'crashed', lastError: 'no node' });
  });
  it('crashed → start clears the error', () => {
    const crashed = run([{ type: 'start' }, { type: 'spawnFailed', error: 'x' }]);
    expect(run([{ type: 'start' }], crashed)).toMatchObject({ state: 'starting', lastError: null });
  });
  it('refusals: start while running, stop while stopped, pause twice, resume when not paused', () => {
    const running = run([{ type: 'start' }, { type: 'spawned', pid: 1 }, { type: 'serving' }]);
    expect(transition(running, { type: 'start' })).toEqual({ ok: false, reason: 'cannot start: the server is running' });
    expect(transition(initialLifecycle(), { type: 'stop' })).toEqual({ ok: false, reason: 'cannot stop: the server is stopped' });
    const paused = run([{ type: 'pause' }], running);
    expect(paused.paused).toBe(true);
    expect(transition(paused, { type: 'pause' }).ok).toBe(false);
    expect(transition(running, { type: 'resume' }).ok).toBe(false);
    expect(transition(initialLifecycle(), { type: 'exited', code: 0, signal: null, lastWords: null }).ok).toBe(false);
  });
  it('exit clears paused', () => {
    const s = run([{ type: 'start' }, { type: 'spawned', pid: 1 }, { type: 'serving' }, { type: 'pause' }, { type: 'kill' }, exit('SIGKILL')]);
    expect(s).toMatchObject({ state: 'stopped', paused: false });
  });
});
