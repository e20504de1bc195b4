/** A ZooKeeper client over the jute codec: see client.ts. */
export * from './client';
export * from './errors';
export * from './connect-string';
export * from './watches';
export * from './dynamic-config';
