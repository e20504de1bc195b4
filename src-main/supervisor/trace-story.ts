/**
 * One client request's full story from the ensemble's trace: the events of its session + xid
 * (received, forwarded, replied) and every event of the zxid(s) it became (proposal, acks,
 * commit, fsync, apply) on every server, in time order.
 */
import type { TraceEvent } from '../common/trace';

export function requestStory(events: readonly TraceEvent[], session: string, xid: number): TraceEvent[] {
  const norm = (s: string | undefined): string | undefined => (s === undefined ? undefined : s.toLowerCase().replace(/^0x0*/, '0x'));
  const want = norm(session);
  const zxids = new Set<string>();
  for (const e of events) {
    if (norm(e.session) === want && e.xid === xid && e.zxid !== undefined) zxids.add(e.zxid);
  }
  // a write's txn may be traced with its session but without the xid (apply, commit)
  for (const e of events) {
    if (norm(e.session) === want && e.xid === undefined && e.zxid !== undefined && e.kind === 'zab.proposal.sent') zxids.add(e.zxid);
  }
  return events
    .filter((e) => (norm(e.session) === want && e.xid === xid) || (e.zxid !== undefined && zxids.has(e.zxid)))
    .slice()
    .sort((a, b) => a.t - b.t || a.server - b.server);
}
