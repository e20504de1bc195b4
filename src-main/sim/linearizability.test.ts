import { describe, expect, it } from 'vitest';
import { checkLinearizable, checkRegisterHistory, checkSequentiallyConsistent, stepRegister } from './linearizability';
import type { RegisterState } from './linearizability';
import type { HistoryOp, RegisterCall, RegisterOutcome } from './linearizability';
import { Prng } from './prng';

const h = (client: string, call: RegisterCall, outcome: RegisterOutcome, invokeMs: number, returnMs: number, key = '/r'): HistoryOp => ({ client, key, call, outcome, invokeMs, returnMs });
const read = { kind: 'read', afterSync: true } as const;
const plainRead = { kind: 'read' } as const;
const write = (value: string): RegisterCall => ({ kind: 'write', value });
const cas = (expectedVersion: number, value: string): RegisterCall => ({ kind: 'cas', expectedVersion, value });
const ok = (value?: string, version?: number): RegisterOutcome => ({ status: 'ok', ...(value !== undefined ? { value } : {}), ...(version !== undefined ? { version } : {}) });
const okV = (version: number): RegisterOutcome => ({ status: 'ok', version });
const fail: RegisterOutcome = { status: 'fail', reason: 'BADVERSION' };
const unknown: RegisterOutcome = { status: 'unknown', reason: 'CONNECTIONLOSS' };

describe('register model', () => {
  it('cas: applies only on the expected version; a refusal is only legal when it would not apply', () => {
    const s = { value: '', version: 0 };
    expect(stepRegister(s, h('a', cas(0, 'x'), okV(1), 0, 1))).toEqual({ value: 'x', version: 1 });
    expect(stepRegister(s, h('a', cas(1, 'x'), okV(2), 0, 1))).toBeNull();
    expect(stepRegister(s, h('a', cas(0, 'x'), fail, 0, 1))).toBeNull();
    expect(stepRegister(s, h('a', cas(3, 'x'), fail, 0, 1))).toBe(s);
    expect(stepRegister(s, h('a', cas(3, 'x'), unknown, 0, 1))).toBe(s);
    expect(stepRegister(s, h('a', write('y'), okV(2), 0, 1))).toBeNull();
  });
});

describe('linearizability: good histories', () => {
  it('sequential writes and reads', () => {
    const r = checkLinearizable([h('a', write('1'), okV(1), 0, 1), h('b', read, ok('1', 1), 2, 3), h('a', cas(1, '2'), okV(2), 4, 5), h('b', read, ok('2', 2), 6, 7)]);
    expect(r.verdict).toBe('ok');
  });

  it('a read overlapping a write may see the old or the new value', () => {
    const w = h('a', write('1'), okV(1), 0, 10);
    expect(checkLinearizable([w, h('b', read, ok('', 0), 1, 2)]).verdict).toBe('ok');
    expect(checkLinearizable([w, h('b', read, ok('1', 1), 1, 2)]).verdict).toBe('ok');
  });

  it('two overlapping reads see the write in either order only if it fits one order', () => {
    // b sees new, then (overlapping with the write still) c sees old: fine if c's read is placed first
    const r = checkLinearizable([h('a', write('1'), okV(1), 0, 10), h('b', read, ok('1', 1), 1, 5), h('c', read, ok('', 0), 2, 6)]);
    expect(r.verdict).toBe('ok');
  });

  it('keys are independent: each gets its own initial state', () => {
    const r = checkLinearizable([h('a', write('x'), okV(6), 0, 1, '/k1'), h('a', write('y'), okV(1), 2, 3, '/k2')], {
      initial: (key) => (key === '/k1' ? { value: 'init', version: 5 } : { value: '', version: 0 }),
    });
    expect(r.verdict).toBe('ok');
    expect(r.keys.map((k) => k.key)).toEqual(['/k1', '/k2']);
  });
});

describe('linearizability: bad histories', () => {
  it('stale read after a completed write → violation', () => {
    const r = checkLinearizable([h('a', write('1'), okV(1), 0, 1), h('b', read, ok('', 0), 2, 3)]);
    expect(r.verdict).toBe('violation');
    expect(r.message).toMatch(/could not place next/);
    expect(r.keys[0]?.blocked?.map((op) => op.client)).toContain('b');
  });

  it('lost write: an acknowledged cas vanishes from later reads → violation', () => {
    const r = checkLinearizable([
      h('a', cas(0, 'a'), okV(1), 0, 1),
      h('b', cas(1, 'b'), okV(2), 2, 3),
      h('c', read, ok('a', 1), 4, 5),
    ]);
    expect(r.verdict).toBe('violation');
  });

  it('lost write without versions in the replies: a later read sees the value from before it', () => {
    const r = checkLinearizable([h('a', write('a'), ok(), 0, 1), h('b', write('b'), ok(), 2, 3), h('c', { kind: 'read', afterSync: true }, ok('a'), 4, 5)]);
    expect(r.verdict).toBe('violation');
  });

  it('cas succeeds twice from the same version → violation (even when concurrent)', () => {
    expect(checkLinearizable([h('a', cas(0, 'x'), ok(), 0, 10), h('b', cas(0, 'y'), ok(), 1, 9)]).verdict).toBe('violation');
    expect(checkLinearizable([h('a', cas(0, 'x'), okV(1), 0, 10), h('b', cas(0, 'y'), okV(1), 1, 9)]).verdict).toBe('violation');
  });

  it('a refused cas on a register nobody else touched → violation', () => {
    expect(checkLinearizable([h('a', cas(0, 'x'), fail, 0, 1)]).verdict).toBe('violation');
    // with a concurrent write it is fine
    expect(checkLinearizable([h('b', write('w'), okV(1), 0, 5), h('a', cas(0, 'x'), fail, 1, 2)]).verdict).toBe('ok');
  });

  it('a read of a value nobody wrote → violation', () => {
    expect(checkLinearizable([h('a', write('1'), okV(1), 0, 1), h('b', read, ok('zzz', 1), 0, 2)]).verdict).toBe('violation');
  });

  it('real-time order between writes is kept: the later write cannot be read as older', () => {
    const r = checkLinearizable([h('a', write('1'), ok(), 0, 1), h('b', write('2'), ok(), 2, 3), h('c', read, ok('1'), 4, 5)]);
    expect(r.verdict).toBe('violation');
  });
});

describe('linearizability: unknown outcomes', () => {
  it('an unknown cas must be assumed to have happened when a later op depends on it', () => {
    const r = checkLinearizable([h('a', cas(0, 'a'), unknown, 0, 1), h('b', cas(1, 'b'), okV(2), 5, 6), h('c', read, ok('b', 2), 7, 8)]);
    expect(r.verdict).toBe('ok');
  });

  it('an unknown write must be assumed not to have happened when reads never show it', () => {
    const r = checkLinearizable([h('a', write('a'), unknown, 0, 1), h('b', read, ok('', 0), 5, 6), h('c', cas(0, 'c'), okV(1), 7, 8), h('b', read, ok('c', 1), 9, 10)]);
    expect(r.verdict).toBe('ok');
  });

  it('an unknown write may take effect long after the client gave up on it', () => {
    const r = checkLinearizable([h('a', write('a'), unknown, 0, 1), h('b', read, ok('', 0), 5, 6), h('b', read, ok('a', 1), 20, 21)]);
    expect(r.verdict).toBe('ok');
  });

  it('but once seen it cannot un-happen → violation', () => {
    const r = checkLinearizable([h('a', write('a'), unknown, 0, 1), h('b', read, ok('a', 1), 5, 6), h('b', read, ok('', 0), 20, 21)]);
    expect(r.verdict).toBe('violation');
  });

  it('an unknown op cannot take effect before it was invoked', () => {
    const r = checkLinearizable([h('b', read, ok('a', 1), 0, 1), h('a', write('a'), unknown, 5, 6)]);
    expect(r.verdict).toBe('violation');
  });

  it('an unknown read says nothing', () => {
    expect(checkLinearizable([h('a', write('a'), okV(1), 0, 1), h('b', read, unknown, 5, 6)]).verdict).toBe('ok');
  });
});

describe('sequential consistency (plain reads)', () => {
  it("a stale read of another client's finished write is sequentially consistent but not linearizable", () => {
    const hist = [h('a', write('1'), okV(1), 0, 1), h('b', plainRead, ok('', 0), 2, 3)];
    expect(checkSequentiallyConsistent(hist).verdict).toBe('ok');
    expect(checkLinearizable(hist).verdict).toBe('violation');
  });

  it("a client that does not see its own write → violation", () => {
    expect(checkSequentiallyConsistent([h('a', write('1'), okV(1), 0, 1), h('a', plainRead, ok('', 0), 2, 3)]).verdict).toBe('violation');
  });

  it('a client that sees time go backwards → violation', () => {
    const hist = [h('w', write('1'), ok(), 0, 10), h('w', write('2'), ok(), 11, 20), h('r', plainRead, ok('2'), 0, 30), h('r', plainRead, ok('1'), 31, 32)];
    expect(checkSequentiallyConsistent(hist).verdict).toBe('violation');
  });

  it('writes keep real-time order: reading them in the opposite order → violation', () => {
    const hist = [h('a', write('1'), ok(), 0, 1), h('b', write('2'), ok(), 2, 3), h('c', plainRead, ok('2'), 0, 100), h('c', plainRead, ok('1'), 101, 102)];
    expect(checkSequentiallyConsistent(hist).verdict).toBe('violation');
  });

  it('checkRegisterHistory: plain reads go to the sequential check only', () => {
    const hist = [h('a', write('1'), okV(1), 0, 1), h('b', plainRead, ok('', 0), 2, 3), h('b', read, ok('1', 1), 4, 5)];
    const r = checkRegisterHistory(hist);
    expect(r.linearizable.verdict).toBe('ok');
    expect(r.sequential.verdict).toBe('ok');
    const bad = checkRegisterHistory([...hist, h('b', plainRead, ok('', 0), 6, 7)]);
    expect(bad.linearizable.verdict).toBe('ok');
    expect(bad.sequential.verdict).toBe('violation');
  });
});

/** A linearizable history of `clients` sequential clients on one register: each op takes effect at a random instant inside its interval. */
function randomHistory(seed: number, clients: number, opsPerClient: number, unknownRate: number): HistoryOp[] {
  const rnd = new Prng(seed);
  interface Pending { client: string; call: RegisterCall; inv: number; at: number; ret: number; lost: boolean }
  const ops: Pending[] = [];
  for (let c = 0; c < clients; c += 1) {
    let t = rnd.float() * 5;
    for (let k = 0; k < opsPerClient; k += 1) {
      const inv = t + rnd.float() * 3;
      const ret = inv + 0.5 + rnd.float() * 10;
      const at = inv + rnd.float() * (ret - inv);
      const r = rnd.float();
      const call: RegisterCall = r < 0.4 ? read : r < 0.6 ? write(`c${c}-${k}`) : cas(Math.floor(rnd.float() * (k + 2)), `c${c}-${k}`);
      ops.push({ client: `c${c}`, call, inv, at, ret, lost: rnd.float() < unknownRate });
      t = ret;
    }
  }
  let state = { value: '', version: 0 };
  const out: HistoryOp[] = [];
  for (const p of [...ops].sort((a, b) => a.at - b.at)) {
    let outcome: RegisterOutcome;
    if (p.call.kind === 'read') outcome = ok(state.value, state.version);
    else if (p.call.kind === 'write' || p.call.expectedVersion === state.version) {
      state = { value: p.call.value, version: state.version + 1 };
      outcome = okV(state.version);
    } else outcome = fail;
    // a lost op happened (or, for a refused cas / read, changed nothing) but the client never heard
    out.push(h(p.client, p.call, p.lost ? unknown : outcome, p.inv, p.ret));
  }
  return out;
}

describe('search: correct on generated histories, bounded on big ones', () => {
  it('generated linearizable histories (4 clients, unknown outcomes) check ok', () => {
    for (let seed = 1; seed <= 30; seed += 1) {
      const r = checkLinearizable(randomHistory(seed, 4, 40, 0.1));
      expect(r.verdict, `seed ${seed}: ${r.message}`).toBe('ok');
      expect(checkSequentiallyConsistent(randomHistory(seed, 4, 40, 0.1)).verdict).toBe('ok');
    }
  });

  it('a generated history with one read corrupted is caught', () => {
    let caught = 0;
    for (let seed = 1; seed <= 20; seed += 1) {
      const hist = randomHistory(seed, 3, 30, 0);
      const i = hist.findIndex((op, k) => k > 20 && op.call.kind === 'read');
      if (i < 0) continue;
      const op = hist[i] as HistoryOp;
      hist[i] = { ...op, outcome: ok('never-written', (op.outcome as { version: number }).version) };
      expect(checkLinearizable(hist).verdict).toBe('violation');
      caught += 1;
    }
    expect(caught).toBeGreaterThan(10);
  });

  it('more ops on a key than the cap → too-big without searching', () => {
    const r = checkLinearizable(randomHistory(7, 2, 20, 0), { opsPerKeyMax: 10 });
    expect(r.verdict).toBe('too-big');
    expect(r.message).toMatch(/40 operations on this key \(limit 10\)/);
    expect(r.keys[0]?.steps).toBe(0);
  });

  it('a search over its step budget → too-big, quickly', () => {
    // many concurrent blind writes, each unknown, and a final read of the first value: a big search space
    const hist: HistoryOp[] = [];
    for (let c = 0; c < 18; c += 1) hist.push(h(`c${c}`, write(`v${c}`), unknown, 0, 1));
    hist.push(h('r', read, ok('nobody', 3), 2, 3));
    const t0 = performance.now();
    const r = checkLinearizable(hist, { stepsMax: 20_000 });
    expect(r.verdict).toBe('too-big');
    expect(r.message).toMatch(/20000 placement attempts/);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('a memo over its byte budget → too-big', () => {
    const hist: HistoryOp[] = [];
    for (let c = 0; c < 18; c += 1) hist.push(h(`c${c}`, write(`v${c}`), unknown, 0, 1));
    hist.push(h('r', read, ok('nobody', 3), 2, 3));
    expect(checkLinearizable(hist, { memoBytesMax: 100_000 }).verdict).toBe('too-big');
  });

  it('a long history with modest concurrency (3 000 ops) checks in well under a few seconds, both models', () => {
    const hist = randomHistory(99, 6, 500, 0.05);
    const t0 = performance.now();
    expect(checkLinearizable(hist).verdict).toBe('ok');
    expect(checkSequentiallyConsistent(hist).verdict).toBe('ok');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('many unknown outcomes (30%) do not blow the search up', () => {
    const hist = randomHistory(5, 5, 200, 0.3);
    const t0 = performance.now();
    const r = checkLinearizable(hist);
    expect(r.verdict, r.message).toBe('ok');
    expect(checkSequentiallyConsistent(hist).verdict).toBe('ok');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

/** Every order, by brute force: is there a legal sequence of the definite ops plus some of the unknown ones? */
function bruteForce(ops: HistoryOp[], mode: 'lin' | 'sc'): boolean {
  const all = ops.filter((op) => !(op.call.kind === 'read' && op.outcome.status === 'unknown'));
  const definite = (op: HistoryOp): boolean => op.outcome.status !== 'unknown';
  const isWrite = (op: HistoryOp): boolean => op.call.kind !== 'read';
  // must a come before b?
  const before = (a: HistoryOp, b: HistoryOp): boolean => {
    if (!definite(a)) return false;
    const timed = mode === 'lin' || (isWrite(a) && isWrite(b));
    if (timed && a.returnMs < b.invokeMs) return true;
    return mode === 'sc' && a.client === b.client && a.invokeMs < b.invokeMs;
  };
  const used = new Array<boolean>(all.length).fill(false);
  const go = (state: RegisterState, left: number): boolean => {
    if (all.every((op, i) => used[i] || !definite(op))) return true;
    for (let i = 0; i < all.length; i += 1) {
      if (used[i]) continue;
      const op = all[i] as HistoryOp;
      if (all.some((other, j) => !used[j] && j !== i && before(other, op))) continue;
      const next = stepRegister(state, op);
      if (next === null) continue;
      used[i] = true;
      const found = go(next, left - 1);
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return go({ value: '', version: 0 }, all.length);
}

function tinyHistory(rnd: Prng): HistoryOp[] {
  const out: HistoryOp[] = [];
  const values = ['', 'a', 'b'];
  const clients = 2 + Math.floor(rnd.float() * 2);
  for (let c = 0; c < clients; c += 1) {
    let t = rnd.float() * 4;
    const n = 1 + Math.floor(rnd.float() * 3);
    for (let k = 0; k < n; k += 1) {
      const inv = t + rnd.float() * 2;
      const ret = inv + 0.1 + rnd.float() * 4;
      t = ret;
      const r = rnd.float();
      const s = rnd.float();
      const version = Math.floor(rnd.float() * 3);
      const value = values[Math.floor(rnd.float() * values.length)] as string;
      let call: RegisterCall;
      let outcome: RegisterOutcome;
      if (r < 0.4) {
        call = rnd.float() < 0.5 ? read : plainRead;
        outcome = s < 0.85 ? ok(value, version) : unknown;
      } else if (r < 0.65) {
        call = write(value);
        outcome = s < 0.5 ? okV(version + 1) : s < 0.75 ? ok() : unknown;
      } else {
        call = cas(version, value);
        outcome = s < 0.4 ? okV(version + 1) : s < 0.7 ? fail : unknown;
      }
      out.push(h(`c${c}`, call, outcome, inv, ret));
    }
  }
  return out;
}

describe('search agrees with brute force on tiny random histories', () => {
  it('1 500 random histories of up to 9 ops, both models', () => {
    const rnd = new Prng(2024);
    let violations = 0;
    let scViolations = 0;
    for (let k = 0; k < 1500; k += 1) {
      const hist = tinyHistory(rnd);
      const lin = checkLinearizable(hist).verdict === 'ok';
      const sc = checkSequentiallyConsistent(hist).verdict === 'ok';
      expect(lin, `lin, history ${k}: ${JSON.stringify(hist)}`).toBe(bruteForce(hist, 'lin'));
      expect(sc, `sc, history ${k}: ${JSON.stringify(hist)}`).toBe(bruteForce(hist, 'sc'));
      if (!lin) violations += 1;
      if (!sc) scViolations += 1;
    }
    // both verdicts occur often enough for the comparison to mean something
    expect(violations).toBeGreaterThan(100);
    expect(violations).toBeLessThan(1400);
    expect(scViolations).toBeLessThan(violations);
  });
});
