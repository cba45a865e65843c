/** Injection tokens of what main.ts creates before Nest starts (one of each per process). */
export const API_CONFIG = Symbol('ApiConfig');
export const CLUSTER = Symbol('ClusterContext');
export const METRICS = Symbol('Metrics');
export const EVENT_HUB = Symbol('EventHub');
export const IDEMPOTENCY = Symbol('IdempotencyStore');
