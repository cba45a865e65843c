export * from './filter-input-schema.js';
export * from './job-spec-schema.js';
export * from './parse-job-spec.js';
