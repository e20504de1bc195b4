import { describe, expect, it } from 'vitest';
import { makeZxid } from '../common/ids';
import { decodeSnapshot, encodeSnapshot } from '../storage/index';
import { sampleSnapshot } from '../storage/test-support';
import { DataTree } from '../tree/data-tree';
import { encodeTreeSnapshot } from './sliced-snapshot';

describe('encodeTreeSnapshot (a leader\'s SNAP)', () => {
  it('holds every node, session and ACL of the tree, even a node created after the zxid the tree was loaded at; it reads back as the same tree', () => {
    // loaded from a fuzzy snapshot named 1:1 whose /app was created at 1:2 (czxid after the zxid)
    const zxid = makeZxid(1, 2);
    const tree = DataTree.fromSnapshot({ ...sampleSnapshot(zxid), zxid: makeZxid(1, 1) });
    expect(tree.record('/app')?.stat.czxid).toBeGreaterThan(tree.lastProcessedZxid);
    const bytes = encodeTreeSnapshot(tree);
    const back = DataTree.fromSnapshot(decodeSnapshot(bytes, tree.lastProcessedZxid, 'SNAP'));
    expect(back.digest()).toBe(tree.digest());
    expect(back.exportSnapshot()).toEqual(tree.exportSnapshot());
    // the ACL table may hold more lists than exportSnapshot + encodeSnapshot's (the tree's ACL cache)
    expect(bytes.length).toBeGreaterThanOrEqual(encodeSnapshot(tree.exportSnapshot()).length);
  });
});
