import { describe, expect, it } from 'vitest';
import { aclEntryProblem, aclLine, parsePerms, permsText, togglePerm } from './acl';

describe('acl model', () => {
  it('perms ↔ zkCli letters', () => {
    expect(permsText(31)).toBe('cdrwa');
    expect(permsText(1 | 2)).toBe('rw');
    expect(parsePerms('rwa')).toBe(1 | 2 | 16);
    expect(parsePerms('rx')).toBeNull();
    expect(togglePerm(31, 16)).toBe(15);
    expect(togglePerm(15, 16)).toBe(31);
  });
  it('entries in zkCli words, problems as sentences', () => {
    expect(aclLine({ scheme: 'world', id: 'anyone', perms: 31 })).toBe("'world,'anyone: cdrwa");
    expect(aclEntryProblem({ scheme: 'world', id: 'anyone', perms: 31 })).toBeNull();
    expect(aclEntryProblem({ scheme: 'digest', id: 'alice:password', perms: 31 })).toMatch(/digest helper/);
    expect(aclEntryProblem({ scheme: 'digest', id: 'alice:0DPiKuNIrrVmD8IUCuw1hQxNqZc=', perms: 31 })).toBeNull();
    expect(aclEntryProblem({ scheme: 'world', id: 'anyone', perms: 0 })).toMatch(/at least one/);
    expect(aclEntryProblem({ scheme: 'bogus', id: 'x', perms: 1 })).toMatch(/unknown scheme/);
  });
});
