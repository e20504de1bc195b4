import { describe, expect, it } from 'vitest';
import type { ServerView } from '../../src-main/api/contract';
import { intentFor, isTypingTarget, resolveAction } from './shortcuts';

const none = { ctrl: false, meta: false, alt: false };
const base = { id: 1, host: '127.0.0.1', clientPort: 1, quorumPort: 2, electionPort: 3, pid: 9, role: 'follower', lastZxid: null, epoch: null, connections: null, dir: '', dataDir: '', configPath: '', lastError: null } as const;
const running: ServerView = { ...base, state: 'running' };
const stopped: ServerView = { ...base, state: 'stopped', pid: null };

describe('shortcuts', () => {
  it('digits select, letters act, modifiers are left to the browser', () => {
    expect(intentFor('2', none)).toEqual({ kind: 'select', id: 2 });
    expect(intentFor('k', none)).toEqual({ kind: 'act', action: 'kill' });
    expect(intentFor('0', none)).toBeNull();
    expect(intentFor('r', { ...none, ctrl: true })).toBeNull();
  });
  it('s starts a stopped server and stops a running one; p resumes a paused one', () => {
    expect(resolveAction('stop', running)).toBe('stop');
    expect(resolveAction('stop', stopped)).toBe('start');
    expect(resolveAction('pause', { ...running, paused: true })).toBe('resume');
    expect(resolveAction('kill', stopped)).toBeNull();
  });
  it('typing in a field is not a shortcut', () => {
    expect(isTypingTarget('INPUT', false)).toBe(true);
    expect(isTypingTarget('DIV', true)).toBe(true);
    expect(isTypingTarget('BODY', false)).toBe(false);
  });
});
