/**
 * Durability for ZooLab servers, pure over a Disk: ZooKeeper's txn-log and snapshot formats,
 * Adler-32, torn-tail repair, restart recovery, TRUNC, purge, epoch files, snapshot policy.
 */
export * from './disk';
export * from './adler32';
export * from './file-names';
export * from './log-format';
export * from './txn-log';
export * from './snapshot-model';
export * from './snapshot-format';
export * from './snapshot-store';
export * from './epoch';
export * from './recovery';
export * from './snapshot-policy';
export * from './memory-disk';
