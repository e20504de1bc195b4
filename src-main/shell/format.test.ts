import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/error-codes';
import type { Stat } from '../jute/types';
import {
  cliErrorMessage,
  formatAcl,
  formatData,
  formatStat,
  formatWatcherNotification,
  javaDateString,
  javaHex,
  keeperErrorMessage,
  permsString,
} from './format';

// Outputs below were recorded from Apache ZooKeeper 3.8.0's zkCli (Debian package).
const stat: Stat = {
  czxid: 0x1an,
  mzxid: 0x29n,
  ctime: 1795594107000n, // Wed Nov 25 08:08:27 UTC 2026
  mtime: 1795594112000n,
  version: 2,
  cversion: 1,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 4,
  numChildren: 1,
  pzxid: 0x1en,
};

describe('format', () => {
  it('stat: the eleven lines of zkCli, times as Java Date.toString', () => {
    expect(formatStat(stat, 'UTC')).toBe(
      [
        'cZxid = 0x1a',
        'ctime = Wed Nov 25 08:08:27 UTC 2026',
        'mZxid = 0x29',
        'mtime = Wed Nov 25 08:08:32 UTC 2026',
        'pZxid = 0x1e',
        'cversion = 1',
        'dataVersion = 2',
        'aclVersion = 0',
        'ephemeralOwner = 0x0',
        'dataLength = 4',
        'numChildren = 1',
        '',
      ].join('\n'),
    );
  });

  it('date: epoch zero and single-digit days are zero-padded like Java', () => {
    expect(javaDateString(0, 'UTC')).toBe('Thu Jan 01 00:00:00 UTC 1970');
    expect(javaDateString(Date.UTC(2024, 1, 3, 4, 5, 6), 'UTC')).toBe('Sat Feb 03 04:05:06 UTC 2024');
    expect(javaDateString(Date.UTC(2024, 6, 1, 0, 0, 0), 'UTC')).toBe('Mon Jul 01 00:00:00 UTC 2024');
  });

  it('hex: session ids with the top bit set print as unsigned 64-bit', () => {
    expect(javaHex(-1n)).toBe('0xffffffffffffffff');
    expect(javaHex(0x100000a3n)).toBe('0x100000a3');
  });

  it('acl: zkCli getAcl listing, perms in cdrwa order', () => {
    expect(
      formatAcl([
        { perms: 3, id: { scheme: 'ip', id: '127.0.0.1' } },
        { perms: 1, id: { scheme: 'world', id: 'anyone' } },
      ]),
    ).toBe("'ip,'127.0.0.1\n: rw\n'world,'anyone\n: r\n");
    expect(permsString(31)).toBe('cdrwa');
    expect(permsString(0)).toBe('');
  });

  it('watch notification: blank line, WATCHER::, blank line, the event', () => {
    expect(formatWatcherNotification({ type: 3, state: 3, path: '/w' })).toBe(
      '\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/w\n',
    );
    expect(formatWatcherNotification({ type: -1, state: 7, path: null })).toBe(
      '\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n',
    );
    expect(formatWatcherNotification({ type: 7, state: 3, path: '/w' })).toContain('type:PersistentWatchRemoved path:/w');
  });

  it('errors: friendly wording for common codes, KeeperException text otherwise', () => {
    expect(cliErrorMessage(ErrorCode.NONODE, '/nope')).toBe('Node does not exist: /nope');
    expect(cliErrorMessage(ErrorCode.NODEEXISTS, '/a')).toBe('Node already exists: /a');
    expect(cliErrorMessage(ErrorCode.NOTEMPTY, '/d')).toBe('Node not empty: /d');
    expect(cliErrorMessage(ErrorCode.BADVERSION, '/d/e')).toBe('version No is not valid : /d/e');
    expect(cliErrorMessage(ErrorCode.NOAUTH, '/a')).toBe('Insufficient permission : /a');
    expect(cliErrorMessage(ErrorCode.INVALIDACL, null)).toBe('Acl is not valid : null');
    expect(cliErrorMessage(ErrorCode.BADARGUMENTS, '/zookeeper')).toBe('Arguments are not valid : /zookeeper');
    expect(cliErrorMessage(ErrorCode.CONNECTIONLOSS, '/')).toBe('KeeperErrorCode = ConnectionLoss for /');
    expect(keeperErrorMessage(ErrorCode.NOWATCHER, '/w')).toBe('KeeperErrorCode = No such watcher for /w');
    expect(keeperErrorMessage(ErrorCode.INVALIDACL)).toBe('KeeperErrorCode = InvalidACL');
    expect(cliErrorMessage(ErrorCode.MARSHALLINGERROR, '')).toBe('KeeperErrorCode = MarshallingError');
    expect(cliErrorMessage(ErrorCode.BADVERSION, '')).toBe('version No is not valid : ');
  });

  it('data: null buffer prints null, bytes print as UTF-8', () => {
    expect(formatData(null)).toBe('null');
    expect(formatData(new TextEncoder().encode('héllo'))).toBe('héllo');
    expect(formatData(new Uint8Array(0))).toBe('');
  });
});
