export * from './filter-input-schema.js';
