/**
 * Linearizability and sequential-consistency checkers for histories of compare-and-set
 * registers (znodes read with getData, written with setData, the version as the compare).
 *
 * The search is Wing & Gong's (1993): pick an operation that may go next, apply it to the
 * model, recurse, backtrack when stuck; with Lowe's memoisation (2017): a configuration
 * (set of operations already placed, model state) met once is never explored again. Registers
 * are independent, so each key is checked on its own (linearizability is local: the history is
 * linearizable iff every key's sub-history is).
 *
 * Outcomes: `ok` (the reply came), `fail` (a definite refusal, e.g. BADVERSION: it did not take
 * effect), `unknown` (connection lost or timed out: it may take effect at any time after its
 * invocation, or never). An unknown operation is placed nowhere or anywhere after its
 * invocation; an unknown read tells nothing and is dropped.
 *
 * Bounded: a history larger than `opsPerKeyMax`, or a search that takes more than `stepsMax`
 * attempts or whose memo grows past `memoBytesMax`, ends with verdict `too-big` (never a hang).
 *
 * Pure: no IO, no clock. Times are whatever the recorder used (one clock for all clients).
 */

export interface RegisterState {
  readonly value: string;
  readonly version: number;
}

export type RegisterCall =
  /** getData; `afterSync`: a sync on the same session returned just before (the read's invocation is the sync's) */
  | { readonly kind: 'read'; readonly afterSync?: boolean }
  /** setData with version -1 */
  | { readonly kind: 'write'; readonly value: string }
  /** setData with an expected version (and/or an expected value, for value-compare registers) */
  | { readonly kind: 'cas'; readonly value: string; readonly expectedVersion?: number; readonly expectedValue?: string };

export type RegisterOutcome =
  /** read: the value and version seen; write/cas: the version the reply's stat carried (optional) */
  | { readonly status: 'ok'; readonly value?: string; readonly version?: number }
  /** the server refused it (cas: BADVERSION): it had no effect */
  | { readonly status: 'fail'; readonly reason?: string }
  /** no answer (connection loss, timeout): it may or may not have taken effect */
  | { readonly status: 'unknown'; readonly reason?: string };

export interface HistoryOp {
  /** one sequential client (one operation outstanding at a time) */
  readonly client: string;
  readonly key: string;
  readonly call: RegisterCall;
  readonly outcome: RegisterOutcome;
  readonly invokeMs: number;
  /** when the reply (or the failure) came; ignored for unknown outcomes */
  readonly returnMs: number;
}

export interface CheckLimits {
  /** more operations than this on one key → too-big before searching (default 20 000) */
  opsPerKeyMax?: number;
  /** placement attempts per key (default 5 000 000) */
  stepsMax?: number;
  /** approximate memory for the memo of visited configurations, per key (default 256 MiB) */
  memoBytesMax?: number;
}

export interface CheckOptions extends CheckLimits {
  /** each register's state before the history (default value '' version 0) */
  initial?: (key: string) => RegisterState;
}

export type Verdict = 'ok' | 'violation' | 'too-big';

export interface KeyResult {
  readonly key: string;
  readonly verdict: Verdict;
  /** operations checked on this key (unknown reads excluded) */
  readonly ops: number;
  readonly steps: number;
  /** for violation / too-big: what went wrong, for a person */
  readonly message?: string;
  /** violation: the longest sequence of operations that could be placed legally, in order */
  readonly longestPrefix?: readonly HistoryOp[];
  /** violation: operations that had to be placed next and could not be (definite, earliest return first) */
  readonly blocked?: readonly HistoryOp[];
}

export interface CheckResult {
  readonly model: 'linearizable' | 'sequentially-consistent';
  /** ok iff every key is ok; violation if any key is; else too-big */
  readonly verdict: Verdict;
  readonly keys: readonly KeyResult[];
  /** one line per key that is not ok */
  readonly message: string;
}

const DEFAULT_INITIAL: RegisterState = { value: '', version: 0 };

/** Linearizability of every operation given (pass writes, cas and reads after sync). */
export function checkLinearizable(history: readonly HistoryOp[], options: CheckOptions = {}): CheckResult {
  return checkAll('linearizable', history, options);
}

/**
 * Sequential consistency as ZooKeeper promises it for plain reads: one order of all operations
 * that keeps each client's own order and the real-time order of writes (write and cas), but
 * lets a read see an older state than a write that finished before it on another client.
 * Checked per key, which is a necessary condition for the whole history (not a sufficient one:
 * unlike linearizability, sequential consistency is not local).
 */
export function checkSequentiallyConsistent(history: readonly HistoryOp[], options: CheckOptions = {}): CheckResult {
  return checkAll('sequentially-consistent', history, options);
}

/** Both checks as the chaos tests need them: writes + reads after sync linearizable; everything sequentially consistent. */
export function checkRegisterHistory(history: readonly HistoryOp[], options: CheckOptions = {}): { linearizable: CheckResult; sequential: CheckResult } {
  const strong = history.filter((op) => op.call.kind !== 'read' || op.call.afterSync === true);
  return { linearizable: checkLinearizable(strong, options), sequential: checkSequentiallyConsistent(history, options) };
}

/** `client c: cas(v3 → "x") ok v4 [10.0–12.5 ms]` */
export function describeOp(op: HistoryOp): string {
  const c = op.call;
  let call: string;
  if (c.kind === 'read') call = c.afterSync ? 'sync+read()' : 'read()';
  else if (c.kind === 'write') call = `write(${JSON.stringify(c.value)})`;
  else {
    const expect = [c.expectedVersion !== undefined ? `v${c.expectedVersion}` : null, c.expectedValue !== undefined ? JSON.stringify(c.expectedValue) : null].filter((x) => x !== null).join(' ');
    call = `cas(${expect} → ${JSON.stringify(c.value)})`;
  }
  const o = op.outcome;
  let out: string;
  if (o.status === 'ok') {
    const parts = [o.value !== undefined ? JSON.stringify(o.value) : null, o.version !== undefined ? `v${o.version}` : null].filter((x) => x !== null);
    out = parts.length > 0 ? `ok ${parts.join(' ')}` : 'ok';
  } else out = o.reason ? `${o.status} (${o.reason})` : o.status;
  const ret = o.status === 'unknown' ? '?' : op.returnMs.toFixed(1);
  return `client ${op.client} ${op.key}: ${call} ${out} [${op.invokeMs.toFixed(1)}–${ret} ms]`;
}

/** The register's next state after `op`, or null when the op's observed outcome is impossible in `s`. */
export function stepRegister(s: RegisterState, op: HistoryOp): RegisterState | null {
  const c = op.call;
  const o = op.outcome;
  if (c.kind === 'read') {
    if (o.status !== 'ok') return o.status === 'unknown' ? s : null;
    if (o.value !== undefined && o.value !== s.value) return null;
    if (o.version !== undefined && o.version !== s.version) return null;
    return s;
  }
  const matches = c.kind === 'write' || ((c.expectedVersion === undefined || c.expectedVersion === s.version) && (c.expectedValue === undefined || c.expectedValue === s.value));
  const next: RegisterState = { value: c.value, version: s.version + 1 };
  if (o.status === 'unknown') return matches ? next : s;
  if (o.status === 'fail') return c.kind === 'cas' && matches ? null : s;
  if (!matches) return null;
  if (o.version !== undefined && o.version !== next.version) return null;
  return next;
}

type Mode = 'linearizable' | 'sequentially-consistent';

function checkAll(mode: Mode, history: readonly HistoryOp[], options: CheckOptions): CheckResult {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    if (op.call.kind === 'read' && op.outcome.status === 'unknown') continue;
    const list = byKey.get(op.key);
    if (list) list.push(op);
    else byKey.set(op.key, [op]);
  }
  const keys: KeyResult[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const init = options.initial ? options.initial(key) : DEFAULT_INITIAL;
    keys.push(checkKey(mode, key, byKey.get(key) as HistoryOp[], init, options));
  }
  const verdict: Verdict = keys.some((k) => k.verdict === 'violation') ? 'violation' : keys.some((k) => k.verdict === 'too-big') ? 'too-big' : 'ok';
  const message = keys
    .filter((k) => k.verdict !== 'ok')
    .map((k) => `${k.key}: ${k.message ?? k.verdict}`)
    .join('\n');
  return { model: mode, verdict, keys, message: message || `${mode}: ${keys.length} keys, ${keys.reduce((n, k) => n + k.ops, 0)} operations` };
}

/** An op in the search, with the links that let it leave and re-enter lists in O(1) (dancing links). */
interface Node {
  readonly i: number;
  readonly op: HistoryOp;
  readonly definite: boolean;
  /** in the real-time class (every op when checking linearizability; writes for sequential consistency) */
  readonly timed: boolean;
  /** state-preserving when legal: reads, refused cas */
  readonly pure: boolean;
  readonly client: number;
  readonly posInClient: number;
  /** invocation-order list of unplaced ops */
  invPrev: Node | null;
  invNext: Node | null;
  /** return-order list of unplaced definite timed ops */
  retPrev: Node | null;
  retNext: Node | null;
  /** the client's list of unplaced ops, in its order */
  chainPrev: Node | null;
  chainNext: Node | null;
  /** the exact version this op needs to find (from what its reply showed), or null */
  readonly needsVersion: number | null;
  /** needs-version-ascending list of unplaced definite ops that need one */
  needPrev: Node | null;
  needNext: Node | null;
}

interface Frame {
  readonly state: RegisterState;
  readonly candidates: Node[];
  next: number;
  /** the op whose placement led here (null at the root) */
  readonly via: Node | null;
  /** the client's first unplaced definite position before `via` was placed */
  readonly prevFirst: number;
}

function checkKey(mode: Mode, key: string, ops: HistoryOp[], init: RegisterState, limits: CheckLimits): KeyResult {
  const opsMax = limits.opsPerKeyMax ?? 20_000;
  const stepsMax = limits.stepsMax ?? 5_000_000;
  const memoBytesMax = limits.memoBytesMax ?? 256 * 1024 * 1024;
  if (ops.length > opsMax) {
    return { key, verdict: 'too-big', ops: ops.length, steps: 0, message: `too big: ${ops.length} operations on this key (limit ${opsMax})` };
  }
  const sorted = ops.map((op, k) => ({ op, k })).sort((a, b) => a.op.invokeMs - b.op.invokeMs || a.k - b.k);
  const clientIds = new Map<string, number>();
  const chains: Node[][] = [];
  const nodes: Node[] = sorted.map(({ op }, i) => {
    let client = clientIds.get(op.client);
    if (client === undefined) {
      client = chains.length;
      clientIds.set(op.client, client);
      chains.push([]);
    }
    const chain = chains[client] as Node[];
    const isWrite = op.call.kind !== 'read';
    const node: Node = {
      i,
      op,
      definite: op.outcome.status !== 'unknown',
      timed: mode === 'linearizable' || isWrite,
      pure: op.call.kind === 'read' || op.outcome.status === 'fail',
      client,
      posInClient: chain.length,
      needsVersion: neededVersion(op),
      ...unlinked(),
    };
    chain.push(node);
    return node;
  });
  const n = nodes.length;
  const definiteTotal = nodes.filter((x) => x.definite).length;

  // invocation-order list (all ops) and return-order list (definite timed ops), with sentinels
  const invHead: Node = sentinel(-1);
  let prev = invHead;
  for (const x of nodes) {
    prev.invNext = x;
    x.invPrev = prev;
    prev = x;
  }
  const retHead: Node = sentinel(-2);
  prev = retHead;
  for (const x of nodes.filter((y) => y.definite && y.timed).sort((a, b) => a.op.returnMs - b.op.returnMs || a.i - b.i)) {
    prev.retNext = x;
    x.retPrev = prev;
    prev = x;
  }

  const needHead: Node = sentinel(-4);
  prev = needHead;
  for (const x of nodes.filter((y) => y.needsVersion !== null).sort((a, b) => (a.needsVersion as number) - (b.needsVersion as number) || a.i - b.i)) {
    prev.needNext = x;
    x.needPrev = prev;
    prev = x;
  }

  // per client: a list of its unplaced ops (sentinel heads)
  const chainHeads = chains.map((chain, c) => {
    const head = sentinel(-5 - c);
    let last = head;
    for (const x of chain) {
      last.chainNext = x;
      x.chainPrev = last;
      last = x;
    }
    return head;
  });

  // sequential consistency: per client, the position of its first unplaced definite op
  const nextDefinite = chains.map((chain) => {
    const next = new Array<number>(chain.length + 1).fill(chain.length);
    for (let p = chain.length - 1; p >= 0; p -= 1) next[p] = (chain[p] as Node).definite ? p : (next[p + 1] as number);
    return next;
  });
  const first = chains.map((_, c) => nextDefinite[c]?.[0] as number);

  const placed = new Uint16Array(Math.ceil(n / 16) || 1);
  let placedDefinite = 0;

  const place = (x: Node): void => {
    (placed[x.i >> 4] as number) |= 1 << (x.i & 15);
    if (x.invPrev) x.invPrev.invNext = x.invNext;
    if (x.invNext) x.invNext.invPrev = x.invPrev;
    if (x.chainPrev) x.chainPrev.chainNext = x.chainNext;
    if (x.chainNext) x.chainNext.chainPrev = x.chainPrev;
    if (x.needsVersion !== null) {
      if (x.needPrev) x.needPrev.needNext = x.needNext;
      if (x.needNext) x.needNext.needPrev = x.needPrev;
    }
    if (x.definite) {
      placedDefinite += 1;
      if (x.timed) {
        if (x.retPrev) x.retPrev.retNext = x.retNext;
        if (x.retNext) x.retNext.retPrev = x.retPrev;
      }
      if (x.posInClient === first[x.client]) first[x.client] = nextDefinite[x.client]?.[x.posInClient + 1] as number;
    }
  };
  const unplace = (x: Node, prevFirst: number): void => {
    (placed[x.i >> 4] as number) &= ~(1 << (x.i & 15));
    if (x.invPrev) x.invPrev.invNext = x;
    if (x.invNext) x.invNext.invPrev = x;
    if (x.chainPrev) x.chainPrev.chainNext = x;
    if (x.chainNext) x.chainNext.chainPrev = x;
    if (x.needsVersion !== null) {
      if (x.needPrev) x.needPrev.needNext = x;
      if (x.needNext) x.needNext.needPrev = x;
    }
    if (x.definite) {
      placedDefinite -= 1;
      if (x.timed) {
        if (x.retPrev) x.retPrev.retNext = x;
        if (x.retNext) x.retNext.retPrev = x;
      }
    }
    first[x.client] = prevFirst;
  };

  /** may x go next by real time? (no unplaced definite timed op other than x returned before x was invoked) */
  const timelyOk = (x: Node): boolean => {
    if (!x.timed) return true;
    let h = retHead.retNext;
    if (h === x) h = h.retNext;
    return h === null || !(h.op.returnMs < x.op.invokeMs);
  };

  const candidatesOf = (state: RegisterState): Node[] => {
    const out: Node[] = [];
    if (mode === 'linearizable') {
      const minRet = retHead.retNext ? retHead.retNext.op.returnMs : Infinity;
      for (let x = invHead.invNext; x !== null && !(x.op.invokeMs > minRet); x = x.invNext) out.push(x);
    } else {
      for (let c = 0; c < chains.length; c += 1) {
        const limit = first[c] as number;
        for (let x = (chainHeads[c] as Node).chainNext; x !== null && x.posInClient <= limit; x = x.chainNext) if (timelyOk(x)) out.push(x);
      }
    }
    // A legal state-preserving op (a read, a refused cas) can always go first among the rest:
    // placing it earlier only removes constraints. Take it alone: no branching needed.
    for (const x of out) if (x.pure && x.definite && stepRegister(state, x.op) !== null) return [x];
    // ops that surely happened first: an unknown op is placed only when nothing else works
    // (placing it last, or never, changes nothing anyone saw)
    return [...out.filter((x) => x.definite), ...out.filter((x) => !x.definite)];
  };

  const memo = new Set<string>();
  let memoBytes = 0;
  const configKey = (s: RegisterState): string => `${s.version}\u0000${s.value}\u0000${String.fromCharCode(...placed)}`;

  let steps = 0;
  let deepest = -1;
  let deepestPrefix: Node[] = [];
  let deepestBlocked: Node[] = [];
  const stack: Frame[] = [{ state: init, candidates: candidatesOf(init), next: 0, via: null, prevFirst: -1 }];
  memo.add(configKey(init));

  const noteDepth = (): void => {
    if (placedDefinite <= deepest) return;
    deepest = placedDefinite;
    deepestPrefix = stack.filter((f) => f.via !== null).map((f) => f.via as Node);
    const blocked: Node[] = [];
    if (mode === 'sequentially-consistent') {
      // each client's next op that surely happened
      for (let c = 0; c < chains.length; c += 1) {
        const x = chains[c]?.[first[c] as number];
        if (x !== undefined) blocked.push(x);
      }
      blocked.sort((a, b) => a.op.returnMs - b.op.returnMs);
    } else {
      for (let x = retHead.retNext; x !== null && blocked.length < 3; x = x.retNext) blocked.push(x);
    }
    // and the op that needs the oldest version: often the one that saw (or missed) something
    const needy = needHead.needNext;
    if (needy !== null && !blocked.includes(needy)) blocked.unshift(needy);
    deepestBlocked = blocked.slice(0, 4);
  };

  for (;;) {
    if (placedDefinite === definiteTotal) {
      // every op that surely happened is placed; the unknown rest can go last, where they change nothing anyone saw
      return { key, verdict: 'ok', ops: n, steps };
    }
    const frame = stack[stack.length - 1];
    if (frame === undefined) break;
    if (frame.next >= frame.candidates.length) {
      noteDepth();
      stack.pop();
      if (frame.via !== null) unplace(frame.via, frame.prevFirst);
      continue;
    }
    const x = frame.candidates[frame.next] as Node;
    frame.next += 1;
    steps += 1;
    if (steps > stepsMax) {
      return { key, verdict: 'too-big', ops: n, steps, message: `too big: gave up after ${stepsMax} placement attempts (${n} operations, ${memo.size} configurations seen)` };
    }
    const nextState = stepRegister(frame.state, x.op);
    if (nextState === null) continue;
    // an unknown op that would change nothing here is better left unplaced (it constrains nobody)
    if (!x.definite && nextState === frame.state) continue;
    const prevFirst = first[x.client] as number;
    place(x);
    // versions only grow: an unplaced op that needs an older version could never be placed
    const needy = needHead.needNext;
    if (needy !== null && (needy.needsVersion as number) < nextState.version) {
      unplace(x, prevFirst);
      continue;
    }
    const k = configKey(nextState);
    if (memo.has(k)) {
      unplace(x, prevFirst);
      continue;
    }
    memo.add(k);
    memoBytes += 2 * k.length + 64;
    if (memoBytes > memoBytesMax) {
      return { key, verdict: 'too-big', ops: n, steps, message: `too big: the memo of visited configurations passed ${memoBytesMax} bytes (${n} operations, ${memo.size} configurations)` };
    }
    stack.push({ state: nextState, candidates: candidatesOf(nextState), next: 0, via: x, prevFirst });
  }

  const prefix = deepestPrefix.map((x) => x.op);
  const blocked = deepestBlocked.map((x) => x.op);
  const tail = prefix.slice(-5).map((op) => `    ${describeOp(op)}`);
  const stateAfter = deepestPrefix.reduce<RegisterState>((s, x) => stepRegister(s, x.op) ?? s, init);
  const message = [
    `not ${mode}: at most ${deepest} of ${definiteTotal} completed operations can be ordered legally (${steps} steps)`,
    `  last placed (state then: ${JSON.stringify(stateAfter.value)} v${stateAfter.version}):`,
    ...(tail.length > 0 ? tail : ['    (none)']),
    '  could not place next:',
    ...blocked.map((op) => `    ${describeOp(op)}`),
  ].join('\n');
  return { key, verdict: 'violation', ops: n, steps, message, longestPrefix: prefix, blocked };
}

function sentinel(i: number): Node {
  return {
    i,
    op: { client: '', key: '', call: { kind: 'read' }, outcome: { status: 'unknown' }, invokeMs: -Infinity, returnMs: -Infinity },
    definite: false,
    timed: false,
    pure: false,
    client: -1,
    posInClient: -1,
    needsVersion: null,
    ...unlinked(),
  };
}

/** A node's list links, none set yet. */
function unlinked(): Pick<Node, 'invPrev' | 'invNext' | 'retPrev' | 'retNext' | 'chainPrev' | 'chainNext' | 'needPrev' | 'needNext'> {
  return { invPrev: null, invNext: null, retPrev: null, retNext: null, chainPrev: null, chainNext: null, needPrev: null, needNext: null };
}

/**
 * The version the register must have when `op` takes effect, when its reply pins it down: a
 * read that saw version v needs v; a write or cas acknowledged with version v needs v − 1; a
 * successful cas needs its expected version. Versions only grow, so once the register is past
 * this version the op can no longer be placed (the search prunes there).
 */
export function neededVersion(op: HistoryOp): number | null {
  const o = op.outcome;
  if (o.status !== 'ok') return null;
  const c = op.call;
  if (c.kind === 'read') return o.version ?? null;
  if (c.kind === 'cas' && c.expectedVersion !== undefined) return c.expectedVersion;
  return o.version !== undefined ? o.version - 1 : null;
}
