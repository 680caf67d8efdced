export * from './ids.js';
export * from './topics.js';
export * from './errors.js';
export * from './delivery.js';
export * from './messages.js';
export * from './codec.js';
export * from './fast-check.js';
export * from './vi/index.js';
