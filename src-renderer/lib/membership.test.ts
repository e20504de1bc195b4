import { describe, expect, it } from 'vitest';
import type { ServerView } from '../../src-main/api/contract';
import { memberActions, membersLabel, versionLabel } from './membership';

const server = (id: number): ServerView => ({
  id, host: '127.0.0.1', clientPort: 1, quorumPort: 2, electionPort: 3, state: 'running', pid: 1, role: 'follower', lastZxid: null, epoch: null, connections: null, dir: '', dataDir: '', configPath: '', lastError: null,
});

describe('membership view', () => {
  it('labels the version as a zxid and the members with their roles', () => {
    const m = { version: '100000002', members: [{ id: 1, role: 'participant' as const }, { id: 4, role: 'observer' as const }] };
    expect(versionLabel(m)).toBe('0x100000002 (epoch 1, #2)');
    expect(membersLabel(m)).toBe('1 · 4 observer');
    expect(versionLabel({ version: null, members: [] })).toBe('not read yet');
    expect(membersLabel({ version: null, members: [] })).toBe('—');
  });

  it('a voter may become an observer, an observer a voter; the last voter may neither go nor stop voting', () => {
    const m = { version: '1', members: [{ id: 1, role: 'participant' as const }, { id: 2, role: 'participant' as const }, { id: 3, role: 'observer' as const }] };
    expect(memberActions(m, server(1))).toEqual({ flipTo: 'observer', remove: true, removeWhy: null });
    expect(memberActions(m, server(3))).toEqual({ flipTo: 'participant', remove: true, removeWhy: null });
    const alone = { version: '1', members: [{ id: 1, role: 'participant' as const }, { id: 3, role: 'observer' as const }] };
    expect(memberActions(alone, server(1))).toEqual({ flipTo: null, remove: false, removeWhy: 'the last voter cannot be removed' });
    // a server whose process runs but that the config does not list: only removal (of its process)
    expect(memberActions(m, server(9))).toEqual({ flipTo: null, remove: true, removeWhy: null });
  });
});
