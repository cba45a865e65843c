/** Photo metadata (`@filer/storage/media`): capture dates read with exifr, loaded only by commands that need them. */
export * from './media/capture-date.js';
export * from './media/capture-dates.js';
