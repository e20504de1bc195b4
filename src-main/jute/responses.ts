/**
 * Server → client response bodies (what follows a ReplyHeader with err == 0), keyed by the
 * opcode of the request they answer. Multi results are framed by MultiHeaders the way
 * ZooKeeper's MultiResponse writes them: create2/createTTL/createContainer results report as
 * type 15, failed or aborted ops as type -1 with the code in both the header and an
 * ErrorResponse body.
 */
import { unreachable } from '../common/assert';
import type { JuteReader, JuteWriter } from './buffer';
import { readACLs, readMultiHeader, readStat, readStrings, writeACLs, writeMultiHeader, writeStat, writeStrings } from './records';
import { UnknownOpCodeError } from './requests';
import { OpCode, type MultiResult, type Response } from './types';

function writeMultiResult(w: JuteWriter, res: MultiResult): void {
  switch (res.type) {
    case OpCode.create:
      writeMultiHeader(w, { type: OpCode.create, done: false, err: 0 });
      w.ustring(res.path);
      return;
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      // ZooKeeper reports every create-with-stat result as create2 (15)
      writeMultiHeader(w, { type: OpCode.create2, done: false, err: 0 });
      w.ustring(res.path);
      writeStat(w, res.stat);
      return;
    case OpCode.delete:
    case OpCode.check:
      writeMultiHeader(w, { type: res.type, done: false, err: 0 });
      return;
    case OpCode.setData:
      writeMultiHeader(w, { type: OpCode.setData, done: false, err: 0 });
      writeStat(w, res.stat);
      return;
    case OpCode.getData:
      writeMultiHeader(w, { type: OpCode.getData, done: false, err: 0 });
      w.buffer(res.data);
      writeStat(w, res.stat);
      return;
    case OpCode.getChildren:
      writeMultiHeader(w, { type: OpCode.getChildren, done: false, err: 0 });
      writeStrings(w, res.children);
      return;
    case OpCode.error:
      writeMultiHeader(w, { type: OpCode.error, done: false, err: res.err });
      w.int(res.err); // ErrorResponse{err}
      return;
    default:
      return unreachable(res, 'multi result');
  }
}

/** MultiResponse: one MultiHeader (+ body) per result, then MultiHeader(-1, true, -1). */
export function writeMultiResults(w: JuteWriter, results: readonly MultiResult[]): void {
  for (const res of results) writeMultiResult(w, res);
  writeMultiHeader(w, { type: -1, done: true, err: -1 });
}

/** Reads a MultiResponse; bounded by the frame (each result takes at least 9 bytes). */
export function readMultiResults(r: JuteReader): MultiResult[] {
  const results: MultiResult[] = [];
  for (;;) {
    const h = readMultiHeader(r);
    if (h.done) return results;
    switch (h.type) {
      case OpCode.create:
        results.push({ type: OpCode.create, path: r.string() });
        break;
      case OpCode.create2: {
        const path = r.string();
        results.push({ type: OpCode.create2, path, stat: readStat(r) });
        break;
      }
      case OpCode.delete:
      case OpCode.check:
        results.push({ type: h.type });
        break;
      case OpCode.setData:
        results.push({ type: OpCode.setData, stat: readStat(r) });
        break;
      case OpCode.getData: {
        const data = r.buffer();
        results.push({ type: OpCode.getData, data, stat: readStat(r) });
        break;
      }
      case OpCode.getChildren:
        results.push({ type: OpCode.getChildren, children: readStrings(r) });
        break;
      case OpCode.error:
        results.push({ type: OpCode.error, err: r.int() });
        break;
      default:
        throw new UnknownOpCodeError(h.type, 'multi result');
    }
  }
}

/** Opcodes whose success reply has no body. */
const emptyBody: ReadonlySet<number> = new Set<number>([
  OpCode.delete, OpCode.ping, OpCode.closeSession, OpCode.auth, OpCode.setWatches, OpCode.setWatches2,
  OpCode.checkWatches, OpCode.removeWatches, OpCode.deleteContainer, OpCode.check,
]);

/** Writes the body of a successful reply (no ReplyHeader). */
export function encodeResponse(w: JuteWriter, response: Response): void {
  switch (response.type) {
    case 'empty':
      return;
    case OpCode.create:
    case OpCode.sync:
      w.ustring(response.path);
      return;
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      w.ustring(response.path);
      writeStat(w, response.stat);
      return;
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
      writeStat(w, response.stat);
      return;
    case OpCode.getData:
    case OpCode.reconfig:
      w.buffer(response.data);
      writeStat(w, response.stat);
      return;
    case OpCode.getACL:
      writeACLs(w, response.acl);
      writeStat(w, response.stat);
      return;
    case OpCode.getChildren:
      writeStrings(w, response.children);
      return;
    case OpCode.getChildren2:
      writeStrings(w, response.children);
      writeStat(w, response.stat);
      return;
    case OpCode.multi:
    case OpCode.multiRead:
      return writeMultiResults(w, response.results);
    case OpCode.getEphemerals:
      writeStrings(w, response.ephemerals);
      return;
    case OpCode.getAllChildrenNumber:
      w.int(response.totalNumber);
      return;
    case OpCode.addWatch:
      w.int(0); // ErrorResponse{err = 0}
      return;
    case OpCode.whoAmI:
      w.vector(response.clientInfo, (ww, c) => ww.ustring(c.authScheme).ustring(c.user));
      return;
    case OpCode.sasl:
      w.buffer(response.token);
      return;
    default:
      return unreachable(response, 'response type');
  }
}

/** Reads the body of a successful reply to a request of opcode `type`. */
export function decodeResponse(type: number, r: JuteReader): Response {
  if (emptyBody.has(type)) return { type: 'empty' };
  switch (type) {
    case OpCode.create:
    case OpCode.sync:
      return { type, path: r.string() };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL: {
      const path = r.string();
      return { type, path, stat: readStat(r) };
    }
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
      return { type, stat: readStat(r) };
    case OpCode.getData:
    case OpCode.reconfig: {
      const data = r.buffer();
      return { type, data, stat: readStat(r) };
    }
    case OpCode.getACL: {
      const acl = readACLs(r);
      return { type, acl, stat: readStat(r) };
    }
    case OpCode.getChildren:
      return { type, children: readStrings(r) };
    case OpCode.getChildren2: {
      const children = readStrings(r);
      return { type, children, stat: readStat(r) };
    }
    case OpCode.multi:
    case OpCode.multiRead:
      return { type, results: readMultiResults(r) };
    case OpCode.getEphemerals:
      return { type, ephemerals: readStrings(r) };
    case OpCode.getAllChildrenNumber:
      return { type, totalNumber: r.int() };
    case OpCode.addWatch:
      r.int(); // ErrorResponse{err}: always 0 on success
      return { type };
    case OpCode.whoAmI:
      return {
        type,
        clientInfo:
          r.vector((rr) => {
            const authScheme = rr.string();
            return { authScheme, user: rr.string() };
          }) ?? [],
      };
    case OpCode.sasl:
      return { type, token: r.buffer() };
    default:
      throw new UnknownOpCodeError(type, 'response');
  }
}
