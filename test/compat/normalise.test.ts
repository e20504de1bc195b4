/**
 * The scenario's normalisation keeps what matters: relative zxid order, which session owns a
 * node, the shape of four-letter answers. (No servers: plain inputs.)
 */
import { describe, expect, it } from 'vitest';
import { fourLetterShape, MNTR_CORE_KEYS, Section, type ScenarioTarget } from './scenario';
import { normalize, withoutLostClose } from './zkcli-run';

const target = { name: 't', connectString: '127.0.0.1:1' } as ScenarioTarget;

describe('scenario normalisation', () => {
  it('zxids become ranks by value within a section; a different order gives a different transcript', () => {
    const a = new Section('x', target);
    a.note(`first ${a.zxid(0x200n)} then ${a.zxid(0x100n)} and ${a.zxid(0n)}`);
    a.note(`again ${a.zxid(0x200n)}`);
    expect(a.finish()).toEqual(['first z2 then z1 and 0', 'again z2']);
    const b = new Section('x', target);
    b.note(`first ${b.zxid(0x100n)} then ${b.zxid(0x200n)} and ${b.zxid(0n)}`);
    b.note(`again ${b.zxid(0x200n)}`);
    expect(b.finish()).not.toEqual(a.finish());
  });

  it('session ids are named after their client; unknown ones numbered; containers and TTLs marked', () => {
    const s = new Section('x', target);
    s.nameSession(0x1000000abcn, 'alice');
    s.note(`${s.session(0x1000000abcn)} ${s.session(0x2000000def0n)} ${s.session(0x2000000def0n)} ${s.session(0x3n)}`);
    s.note(`${s.session(0x8000000000000000n)} ${s.session(0xff000000000003e8n)} ${s.session(0n)}`);
    expect(s.finish()).toEqual(['session(alice) session(?1) session(?1) session(?2)', 'CONTAINER TTL(1000) 0']);
  });

  it('stats keep every field but times, and a bad time shows', () => {
    const s = new Section('x', target);
    const now = BigInt(Date.now());
    const stat = { czxid: 5n, mzxid: 6n, ctime: now, mtime: 0n, version: 1, cversion: 2, aversion: 3, ephemeralOwner: 0n, dataLength: 4, numChildren: 5, pzxid: 7n };
    s.note(s.stat(stat));
    expect(s.finish()).toEqual(['{cz=z1 mz=z2 pz=z3 ct=T mt=BADTIME(0) v=1 cv=2 av=3 eo=0 dl=4 nc=5}']);
  });

  it('null, empty and large data stay distinct', () => {
    const s = new Section('x', target);
    expect([s.data(null), s.data(new Uint8Array(0)), s.data(new Uint8Array(100)).startsWith('<100 bytes sha1 ')]).toEqual(['null', '""', true]);
  });

  it('four-letter shapes: srvr keys, cons fields, mntr core keys, hash lines', () => {
    const srvr = 'Zookeeper version: 3.8.0-1, built on x\nLatency min/avg/max: 0/0.5/3\nZxid: 0x1a\nMode: standalone\nNode count: 5\n';
    expect(fourLetterShape('srvr', srvr)).toBe('Zookeeper version:\nLatency min/avg/max:\nZxid:\nMode:\nNode count:');
    const cons = ' /127.0.0.1:4000[1](queued=0,recved=3,sent=3,sid=0x1,lop=PING)\n /127.0.0.1:4001[0](queued=0,recved=1,sent=0)\n /127.0.0.1:4002[1](queued=0,recved=9,sent=9,sid=0x2,lop=GETD)\n';
    expect(fourLetterShape('cons', cons)).toBe('ADDR[…](queued,recved,sent)\nADDR[…](queued,recved,sent,sid,lop)');
    const mntr = MNTR_CORE_KEYS.filter((k) => k !== 'zk_uptime').map((k) => `${k}\t1`).join('\n');
    expect(fourLetterShape('mntr', mntr)).toBe('core keys missing: [zk_uptime]');
    expect(fourLetterShape('hash', '80: -3456\n100000a00: 99\n')).toBe('<zxid>: <digest> lines (0 or more)');
    expect(fourLetterShape('hash', 'hash is not supported\n')).toBe('"hash is not supported\\n"');
  });
});

describe('zkCli transcripts: the Closed event a quit may lose to the JVM exit', () => {
  const run = (stdout: string): ReturnType<typeof normalize> => normalize({ stdout, stderr: '', code: 0 }, false);
  const connected = '\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n';
  const closed = '\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n';
  const printed = run(`a${connected}b${closed}`);

  it('is dropped only when the reference lost it (whole, or after its WATCHER:: line)', () => {
    const lost = run(`a${connected}b`);
    const half = run(`a${connected}b\nWATCHER::\n`);
    expect(withoutLostClose(printed, lost).events).toEqual(lost.events);
    expect(withoutLostClose(printed, half).events).toEqual(half.events);
    expect(withoutLostClose(printed, printed)).toEqual(printed);
  });

  it('any other difference still shows', () => {
    const noConnect = run(`ab`);
    expect(withoutLostClose(printed, noConnect).events).not.toEqual(noConnect.events);
    const otherLast = run(`a${closed}b${connected}`);
    expect(withoutLostClose(otherLast, run(`a${connected}b`)).events).toEqual(otherLast.events);
    expect(withoutLostClose(run(`a${connected}b`), printed).events).not.toEqual(printed.events);
  });
});
