export * from './assert';
export * from './ids';
export * from './error-codes';
export * from './errors';
export * from './limits';
export * from './trace';
