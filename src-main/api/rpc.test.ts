import { describe, expect, it } from 'vitest';
import type { AppCalls, EnsembleView, WireMessage } from './contract';
import { callNames, connectCallNames, terminalCallNames, treeCallNames, treeToolCallNames } from './contract';
import { callsFromInvoke, checkCallArgs, createRpcClient, parseWireMessage, serveCall } from './rpc';

const stat0 = { czxid: '0x0', mzxid: '0x0', pzxid: '0x0', ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: '0x0', dataLength: 0, numChildren: 0 };

/** Records what it was asked; a real BackendCalls shape, so dispatch is checked end to end. */
function recordingCalls(log: string[]): AppCalls {
  const ensemble: EnsembleView = { dir: '/tmp/e', connectionString: '127.0.0.1:2181', servers: [] };
  return {
    getEnsemble: async () => ensemble,
    startEnsemble: async (o) => {
      log.push(`start ${o.servers}`);
      return ensemble;
    },
    stopEnsemble: async () => void log.push('stop-all'),
    killServer: async (id) => void log.push(`kill ${id}`),
    stopServer: async (id) => void log.push(`stop ${id}`),
    startServer: async (id) => void log.push(`start ${id}`),
    restartServer: async (id) => void log.push(`restart ${id}`),
    pauseServer: async (id) => void log.push(`pause ${id}`),
    resumeServer: async (id) => void log.push(`resume ${id}`),
    readServerFile: async (id, file) => {
      if (id === 9) throw new Error('no server 9 in this ensemble');
      return `${id}:${file}`;
    },
    isolateServer: async (id) => void log.push(`isolate ${id}`),
    partitionEnsemble: async (sides) => void log.push(`partition ${JSON.stringify(sides)}`),
    faultLink: async (from, to, f) => void log.push(`fault ${from}->${to} ${JSON.stringify(f)}`),
    healEnsemble: async () => void log.push('heal'),
    setStepMode: async (on) => void log.push(`step ${on}`),
    releaseHeld: async (n) => n,
    releaseEvery: async (ms) => void log.push(`every ${ms}`),
    serverHealth: async () => [],
    listSavedEnsembles: async () => [],
    openSavedEnsemble: async () => ensemble,
    addServer: async (o) => {
      log.push(`add ${o.role}`);
      return 4;
    },
    removeServer: async (id) => void log.push(`remove ${id}`),
    setServerRole: async (id, role) => void log.push(`role ${id} ${role}`),
    openTerminal: async ({ server }) => ({ id: 1, connectString: `server ${server}` }),
    terminalInput: async (id, data) => void log.push(`input ${id} ${data}`),
    resizeTerminal: async (id, columns) => void log.push(`resize ${id} ${columns}`),
    closeTerminal: async (id) => void log.push(`close ${id}`),
    treeChildren: async (path) => ({ children: [path], stat: stat0 }),
    treeGet: async () => ({ dataBase64: null, stat: stat0 }),
    treeSet: async () => stat0,
    treeCreate: async (path) => path,
    treeDelete: async (path) => void log.push(`delete ${path}`),
    treeUseServer: async (id) => `server ${id}`,
    treeGetAcl: async () => ({ acl: [], stat: stat0 }),
    treeSetAcl: async () => stat0,
    treeDigestId: async (u) => `${u}:x`,
    treeExport: async (path) => ({ format: 'zoolab-subtree/1', path, nodes: 1, root: { data: null, children: {} } }),
    treeImport: async () => ({ created: 0, updated: 0 }),
    treeCopy: async () => ({ created: 0, updated: 0 }),
    treeSearch: async () => ({ hits: [], visited: 0, truncated: false }),
    connectExisting: async () => ensemble,
    disconnectExisting: async () => void log.push('disconnect'),
  };
}

describe('checkCallArgs: faults, step mode, health', () => {
  it('accepts the documented shapes', () => {
    expect(checkCallArgs('isolateServer', [1])).toBeNull();
    expect(checkCallArgs('partitionEnsemble', [[[1], [2, 3]]])).toBeNull();
    expect(checkCallArgs('faultLink', [1, 2, { drop: true }])).toBeNull();
    expect(checkCallArgs('faultLink', [1, 2, { delayMs: 300 }])).toBeNull();
    expect(checkCallArgs('healEnsemble', [])).toBeNull();
    expect(checkCallArgs('setStepMode', [true])).toBeNull();
    expect(checkCallArgs('releaseHeld', [1])).toBeNull();
    expect(checkCallArgs('releaseEvery', [null])).toBeNull();
    expect(checkCallArgs('releaseEvery', [500])).toBeNull();
    expect(checkCallArgs('serverHealth', [2, 60])).toBeNull();
    expect(checkCallArgs('startEnsemble', [{ servers: 3, observers: 1 }])).toBeNull();
  });
  it('refuses other shapes with a sentence', () => {
    expect(checkCallArgs('partitionEnsemble', [[[]]])).toMatch(/non-empty/);
    expect(checkCallArgs('partitionEnsemble', [[1, 2]])).toMatch(/list of server ids/);
    expect(checkCallArgs('faultLink', [1, 2, { drop: false }])).toMatch(/delayMs/);
    expect(checkCallArgs('faultLink', [1, 2, { delayMs: -1 }])).toMatch(/delayMs/);
    expect(checkCallArgs('setStepMode', ['yes'])).toMatch(/true or false/);
    expect(checkCallArgs('releaseHeld', [0])).toMatch(/count/);
    expect(checkCallArgs('releaseEvery', [0])).toMatch(/interval/);
    expect(checkCallArgs('serverHealth', [1, 10_000])).toMatch(/samples/);
    expect(checkCallArgs('startEnsemble', [{ servers: 7, observers: 3 }])).toMatch(/observers/);
    expect(checkCallArgs('openSavedEnsemble', ['../etc'])).toMatch(/name/);
    expect(checkCallArgs('openSavedEnsemble', ['3-servers'])).toBeNull();
    expect(checkCallArgs('connectExisting', [{ connectString: 'h:1,h:2/app', digest: { user: 'u', password: 'p' } }])).toBeNull();
    expect(checkCallArgs('connectExisting', [{ connectString: 'h:1', digest: null }])).toBeNull();
    expect(checkCallArgs('treeSetAcl', ['/a', [{ scheme: 'world', id: 'anyone', perms: 31 }], -1])).toBeNull();
    expect(checkCallArgs('treeSetAcl', ['/a', [], -1])).toMatch(/1 to 100/);
    expect(checkCallArgs('treeSetAcl', ['/a', [{ scheme: 'world', id: 'anyone', perms: 32 }], -1])).toMatch(/perms/);
    expect(checkCallArgs('treeCopy', ['/a', '/a/b'])).toMatch(/inside/);
    expect(checkCallArgs('treeCopy', ['/a', '/b'])).toBeNull();
    expect(checkCallArgs('treeSearch', ['/', 'x', true])).toBeNull();
    expect(checkCallArgs('treeSearch', ['/', ' ', true])).toMatch(/some text/);
    expect(checkCallArgs('treeImport', ['/a', { data: null, children: {} }])).toBeNull();
    expect(checkCallArgs('treeDigestId', ['a:b', 'p'])).toMatch(/no ":"/);
    expect(checkCallArgs('treeUseServer', [null])).toBeNull();
    expect(checkCallArgs('treeCreate', ['/t', null, 'persistent-ttl', 60_000])).toBeNull();
    expect(checkCallArgs('treeCreate', ['/t', null, 'persistent-ttl'])).toMatch(/ttl/);
    expect(checkCallArgs('treeCreate', ['/t', null, 'persistent', 5])).toMatch(/ttl/);
    expect(checkCallArgs('treeUseServer', [0])).toMatch(/server id or null/);
    expect(checkCallArgs('connectExisting', [{ connectString: '', digest: null }])).toMatch(/non-empty/);
    expect(checkCallArgs('connectExisting', [{ connectString: 'h:1', digest: { user: 'a:b', password: 'p' } }])).toMatch(/without ":"/);
  });
  it('dispatches them to the backend', async () => {
    const log: string[] = [];
    const calls = recordingCalls(log);
    expect(await serveCall(calls, 'partitionEnsemble', [[[1], [2, 3]]])).toEqual({ ok: true, value: null });
    expect(await serveCall(calls, 'releaseHeld', [3])).toEqual({ ok: true, value: 3 });
    expect(log).toEqual(['partition [[1],[2,3]]']);
  });
});

describe('callsFromInvoke', () => {
  it('has a function for every call the hosts allow (the cast must not hide a missing one)', () => {
    const calls = callsFromInvoke(async () => null) as unknown as Record<string, unknown>;
    for (const name of [...callNames, ...terminalCallNames, ...treeCallNames, ...treeToolCallNames, ...connectCallNames]) {
      expect(typeof calls[name], name).toBe('function');
    }
  });
});

describe('checkCallArgs: dynamic membership', () => {
  it('accepts addServer/removeServer/setServerRole and startEnsemble with reconfig', () => {
    expect(checkCallArgs('addServer', [{ role: 'observer' }])).toBeNull();
    expect(checkCallArgs('removeServer', [4])).toBeNull();
    expect(checkCallArgs('setServerRole', [2, 'participant'])).toBeNull();
    expect(checkCallArgs('startEnsemble', [{ servers: 3, reconfig: true }])).toBeNull();
  });
  it('refuses other shapes with a sentence', () => {
    expect(checkCallArgs('addServer', [{ role: 'leader' }])).toMatch(/participant' or 'observer/);
    expect(checkCallArgs('addServer', [{ role: 'observer', id: 3 }])).toMatch(/takes \{ role \}/);
    expect(checkCallArgs('removeServer', [0])).toMatch(/server id/);
    expect(checkCallArgs('setServerRole', [2])).toMatch(/setServerRole takes/);
    expect(checkCallArgs('startEnsemble', [{ servers: 3, reconfig: 'yes' }])).toMatch(/reconfig must be true or false/);
  });
  it('dispatches them to the backend', async () => {
    const log: string[] = [];
    const calls = recordingCalls(log);
    expect(await serveCall(calls, 'addServer', [{ role: 'participant' }])).toEqual({ ok: true, value: 4 });
    await serveCall(calls, 'setServerRole', [4, 'observer']);
    await serveCall(calls, 'removeServer', [4]);
    expect(log).toEqual(['add participant', 'role 4 observer', 'remove 4']);
  });
});

describe('checkCallArgs', () => {
  it('accepts the documented shapes', () => {
    expect(checkCallArgs('getEnsemble', [])).toBeNull();
    expect(checkCallArgs('startEnsemble', [{ servers: 3, tickTimeMs: 2000 }])).toBeNull();
    expect(checkCallArgs('killServer', [2])).toBeNull();
    expect(checkCallArgs('readServerFile', [1, 'zoo.cfg'])).toBeNull();
    expect(checkCallArgs('openTerminal', [{ server: null, columns: 80 }])).toBeNull();
    expect(checkCallArgs('terminalInput', [3, 'ls /\r'])).toBeNull();
    expect(checkCallArgs('treeSet', ['/app/config', 'aGVsbG8=', 3])).toBeNull();
    expect(checkCallArgs('treeCreate', ['/a', null, 'ephemeral-sequential'])).toBeNull();
    expect(checkCallArgs('treeDelete', ['/a', -1, true])).toBeNull();
  });
  it('refuses other shapes with a sentence', () => {
    expect(checkCallArgs('killServer', ['2'])).toMatch(/server id/);
    expect(checkCallArgs('killServer', [1.5])).toMatch(/server id/);
    expect(checkCallArgs('killServer', [])).toMatch(/server id/);
    expect(checkCallArgs('startEnsemble', [{ servers: 0 }])).toMatch(/1 to 9/);
    expect(checkCallArgs('startEnsemble', [{ servers: 3, evil: true }])).toMatch(/unknown option 'evil'/);
    expect(checkCallArgs('startEnsemble', [{ servers: 3, tickTimeMs: -1 }])).toMatch(/tickTimeMs/);
    expect(checkCallArgs('readServerFile', [1, '../../etc/passwd'])).toMatch(/must be one of/);
    expect(checkCallArgs('getEnsemble', 'x')).toMatch(/array/);
    expect(checkCallArgs('openTerminal', [{ server: 0, columns: 80 }])).toMatch(/server id or null/);
    expect(checkCallArgs('openTerminal', [{ server: null, columns: 0 }])).toMatch(/columns/);
    expect(checkCallArgs('terminalInput', [1, 'x'.repeat(70_000)])).toMatch(/at most/);
    expect(checkCallArgs('resizeTerminal', [1, 80.5])).toMatch(/column count/);
    expect(checkCallArgs('treeGet', ['a'])).toMatch(/starts with \//);
    expect(checkCallArgs('treeGet', ['/a/'])).toMatch(/must not end with/);
    expect(checkCallArgs('treeGet', ['/a/../b'])).toMatch(/\. or \.\./);
    expect(checkCallArgs('treeSet', ['/a', 'not base64!', 0])).toMatch(/base64/);
    expect(checkCallArgs('treeSet', ['/a', null, -2])).toMatch(/version/);
    expect(checkCallArgs('treeCreate', ['/a', null, 'forever'])).toMatch(/mode must be one of/);
    expect(checkCallArgs('treeDelete', ['/a', -1, 'yes'])).toMatch(/recursive/);
  });
});

describe('serveCall', () => {
  it('dispatches a valid call and returns its value', async () => {
    const log: string[] = [];
    expect(await serveCall(recordingCalls(log), 'killServer', [2])).toEqual({ ok: true, value: null });
    expect(await serveCall(recordingCalls(log), 'readServerFile', [1, 'myid'])).toEqual({ ok: true, value: '1:myid' });
    expect(log).toEqual(['kill 2']);
  });
  it('unknown method → error, backend untouched', async () => {
    const log: string[] = [];
    const r = await serveCall(recordingCalls(log), 'constructor', []);
    expect(r).toEqual({ ok: false, error: "unknown method 'constructor'" });
    expect(log).toEqual([]);
  });
  it('a backend error comes back as its message', async () => {
    const r = await serveCall(recordingCalls([]), 'readServerFile', [9, 'log']);
    expect(r).toEqual({ ok: false, error: 'no server 9 in this ensemble' });
  });
});

describe('parseWireMessage', () => {
  it('keeps well-formed messages and drops the rest', () => {
    expect(parseWireMessage('{"kind":"call","id":1,"method":"getEnsemble","args":[]}')).not.toBeNull();
    expect(parseWireMessage('{"kind":"call","id":1,"method":"toString","args":[]}')).toBeNull();
    expect(parseWireMessage('{"kind":"event","name":"nope","payload":1}')).toBeNull();
    expect(parseWireMessage('not json')).toBeNull();
    expect(parseWireMessage('null')).toBeNull();
  });
});

describe('createRpcClient', () => {
  it('round-trips calls through serveCall and delivers events', async () => {
    const log: string[] = [];
    const backend = recordingCalls(log);
    const events: unknown[] = [];
    const client = createRpcClient((m: WireMessage) => {
      if (m.kind !== 'call') return;
      void serveCall(backend, m.method, m.args).then((r) => client.receive({ kind: 'result', id: m.id, ...r } as WireMessage));
    });
    const off = client.on('serverLog', (p) => events.push(p));
    await client.calls.restartServer(3);
    await expect(client.calls.readServerFile(9, 'log')).rejects.toThrow('no server 9 in this ensemble');
    client.receive({ kind: 'event', name: 'serverLog', payload: { server: 1, lines: ['a'] } });
    off();
    client.receive({ kind: 'event', name: 'serverLog', payload: { server: 1, lines: ['b'] } });
    expect(log).toEqual(['restart 3']);
    expect(events).toEqual([{ server: 1, lines: ['a'] }]);
  });
  it('failAll rejects pending calls with the reason', async () => {
    const client = createRpcClient(() => {});
    const p = client.calls.getEnsemble();
    expect(client.pendingCount()).toBe(1);
    client.failAll('connection closed');
    await expect(p).rejects.toThrow('connection closed');
    expect(client.pendingCount()).toBe(0);
  });
});
