/**
 * The proposing half of the write path: zxids, txns proposed and not yet applied (each with what
 * to do once applied), the outstanding changes prep reads, and the prep of each kind of write.
 * It builds TxnEntries; ServerCore emits them (`log` or `propose`), applies them and answers.
 */
import { assert } from '../common/assert';
import { ErrorCode } from '../common/error-codes';
import type { SessionId, Zxid } from '../common/ids';
import { hex } from '../common/ids';
import type { TraceEvent } from '../common/trace';
import type { Id, MultiOp, Request, Txn, TxnEntry } from '../jute/types';
import { OpCode } from '../jute/types';
import type { ApplyResult, DataTree } from '../tree/data-tree';
import { Fifo } from './fifo';
import type { PrepContext } from './prep';
import { OutstandingChanges, StagedView, prepCloseSession, prepDelete, prepMulti, prepOp, prepSetAcl } from './prep';
import { prepReconfig } from './reconfig';
import type { SessionTracker } from './sessions';
import type { ReconfigSupport, ServerEnv } from './types';

export interface PendingTxn {
  entry: TxnEntry;
  onApplied: (r: ApplyResult) => void;
}

export interface ProposerOptions {
  readonly skipAcl: boolean;
  readonly extendedTypesEnabled: boolean;
  readonly saslAuthProvider: boolean;
}

export class Proposer {
  readonly outstanding = new OutstandingChanges();
  /** proposed, not yet applied, in zxid order */
  readonly pending = new Fifo<PendingTxn>();
  /** Highest zxid handed out to a txn (logged or not). */
  lastProposedZxid: Zxid;
  /** a reconfig prepped by this core and not yet applied (ZAB may not have it yet) */
  reconfigPending: Zxid | null = null;
  /** paths whose deleteContainer is proposed and not yet applied */
  readonly reapInFlight = new Set<string>();

  constructor(
    private readonly tree: DataTree,
    private readonly sessions: SessionTracker,
    private readonly env: ServerEnv,
    private readonly opts: ProposerOptions,
    private readonly role: 'standalone' | 'leader' | 'learner',
    private readonly reconfigSupport: ReconfigSupport | undefined,
    private readonly trace: (e: Omit<TraceEvent, 't' | 'server'>) => void,
    firstZxid: Zxid,
  ) {
    this.lastProposedZxid = firstZxid;
  }

  /** The entry for the next zxid, queued as pending; the caller emits it. */
  propose(header: Omit<TxnEntry['header'], 'time'>, txn: Txn, onApplied: (r: ApplyResult) => void): TxnEntry {
    // the message is built only on failure: hex() per proposal showed in the write profile
    if (header.zxid !== this.lastProposedZxid + 1n) assert(false, `zxid ${hex(header.zxid)} out of order`);
    this.lastProposedZxid = header.zxid;
    // a literal in TxnHeader's field order, as decoded headers have it (a spread plus a new
    // field changed the object's shape per proposal)
    const h = { clientId: header.clientId, cxid: header.cxid, zxid: header.zxid, time: BigInt(Math.floor(this.env.clock.nowMs())), type: header.type };
    const entry: TxnEntry = { header: h, txn };
    this.pending.push({ entry, onApplied });
    return entry;
  }

  private prepContext(sessionId: SessionId, authIds: readonly Id[], zxid: Zxid): PrepContext {
    const s = this.sessions.get(sessionId);
    return {
      sessionId,
      zxid,
      timeMs: BigInt(Math.floor(this.env.clock.nowMs())),
      authIds,
      skipAcl: this.opts.skipAcl,
      extendedTypesEnabled: this.opts.extendedTypesEnabled,
      saslAuthProvider: this.opts.saslAuthProvider,
      sessionError: s && !s.closing ? 0 : ErrorCode.SESSIONEXPIRED,
    };
  }

  /** prep (always yields a txn: an error txn when a check fails), then propose it. */
  prepRequest(sessionId: SessionId, xid: number, authIds: readonly Id[], request: Request, onApplied: (r: ApplyResult) => void): TxnEntry {
    const zxid = this.lastProposedZxid + 1n;
    const ctx = this.prepContext(sessionId, authIds, zxid);
    const view = new StagedView(this.tree, this.outstanding);
    let txn: Txn;
    let ok = true;
    switch (request.type) {
      case OpCode.multi: {
        const r = prepMulti(view, ctx, request.req.ops);
        txn = r.txn;
        ok = r.failedErr === 0;
        break;
      }
      case OpCode.setACL: {
        const r = prepSetAcl(view, ctx, request.req.path, request.req.acl, request.req.version);
        txn = r.ok ? r.txn : { type: OpCode.error, err: r.err };
        ok = r.ok;
        break;
      }
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
      case OpCode.delete:
      case OpCode.setData: {
        const r = prepOp(view, ctx, request as MultiOp);
        txn = r.ok ? r.txn : { type: OpCode.error, err: r.err };
        ok = r.ok;
        break;
      }
      case OpCode.reconfig: {
        const r = prepReconfig(this.reconfigSupport, this.role, this.tree, ctx, request.req, zxid, this.reconfigPending !== null);
        txn = r.ok ? r.txn : { type: OpCode.error, err: r.err };
        ok = r.ok;
        if (r.ok) this.reconfigPending = zxid;
        this.trace({ kind: 'reconfig.prepped', zxid: hex(zxid), session: hex(sessionId), xid, detail: r.ok ? { version: hex(zxid), voters: r.next.voters.join(','), observers: r.next.observers.join(',') } : { err: r.err, reason: r.message } });
        break;
      }
      default:
        // deleteContainer: upstream reads this op's body as a bare path (it is meant for its own
        // reaper), so a client's DeleteContainerRequest always fails its path check
        txn = { type: OpCode.error, err: ErrorCode.BADARGUMENTS };
        ok = false;
    }
    if (ok) view.commitTo(this.outstanding);
    const headerType = txn.type === OpCode.error ? OpCode.error : request.type;
    return this.propose({ clientId: sessionId, cxid: xid, zxid, type: headerType }, txn, onApplied);
  }

  /** closeSession (the caller marks the session closing first): its ephemerals go. */
  prepCloseSession(sessionId: SessionId, xid: number, onApplied: (r: ApplyResult) => void): TxnEntry {
    const zxid = this.lastProposedZxid + 1n;
    const ctx = this.prepContext(sessionId, [], zxid);
    const view = new StagedView(this.tree, this.outstanding);
    const txn = prepCloseSession(this.tree, this.outstanding, view, ctx);
    view.commitTo(this.outstanding);
    return this.propose({ clientId: sessionId, cxid: xid, zxid, type: OpCode.closeSession }, txn, onApplied);
  }

  /** deleteContainer of an empty container or expired TTL node; null when it no longer qualifies. */
  prepReap(path: string): TxnEntry | null {
    const zxid = this.lastProposedZxid + 1n;
    const ctx: PrepContext = { ...this.prepContext(0n, [], zxid), internal: true, sessionError: 0 };
    const view = new StagedView(this.tree, this.outstanding);
    const r = prepDelete(view, ctx, path, -1, true);
    if (!r.ok) return null;
    view.commitTo(this.outstanding);
    this.reapInFlight.add(path);
    return this.propose({ clientId: 0n, cxid: 0, zxid, type: OpCode.deleteContainer }, r.txn, () => {
      this.reapInFlight.delete(path);
    });
  }
}
