import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../common/trace';
import { requestStory } from './trace-story';

const ev = (t: number, kind: TraceEvent['kind'], server: number, extra: Partial<TraceEvent> = {}): TraceEvent => ({ t, kind, server, ...extra });

describe('request story', () => {
  it('collects the request by session+xid and every event of its zxid across servers, in time order', () => {
    const events: TraceEvent[] = [
      ev(5, 'zab.ack.received', 1, { zxid: '0x100000002' }),
      ev(1, 'request.received', 2, { session: '0x10000abc', xid: 7, op: 'create' }),
      ev(2, 'request.forwarded', 2, { session: '0x10000abc', xid: 7 }),
      ev(3, 'zab.proposal.sent', 1, { session: '0x10000abc', xid: 7, zxid: '0x100000002' }),
      ev(4, 'zab.proposal.received', 3, { zxid: '0x100000002' }),
      ev(4, 'zab.proposal.received', 2, { zxid: '0x100000002' }),
      ev(6, 'txn.applied', 2, { zxid: '0x100000002', session: '0x10000abc' }),
      ev(6, 'txn.applied', 2, { zxid: '0x100000003', session: '0x10000abc' }),
      ev(7, 'request.replied', 2, { session: '0x10000ABC', xid: 7 }),
      ev(8, 'request.received', 2, { session: '0x10000abc', xid: 8 }),
    ];
    const story = requestStory(events, '0x10000abc', 7);
    expect(story.map((e) => `${e.t}:${e.kind}@${e.server}`)).toEqual([
      '1:request.received@2',
      '2:request.forwarded@2',
      '3:zab.proposal.sent@1',
      '4:zab.proposal.received@2',
      '4:zab.proposal.received@3',
      '5:zab.ack.received@1',
      '6:txn.applied@2',
      '7:request.replied@2',
    ]);
  });
});
