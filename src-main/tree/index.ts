export * from './znode-path';
export * from './acl';
export * from './ephemeral-type';
export * from './data-tree';
export * from './watch-table';
export * from './quota';
export * from './tree-digest';
