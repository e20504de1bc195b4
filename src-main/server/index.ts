export * from './types';
export * from './server-core';
export * from './prep';
export * from './sessions';
