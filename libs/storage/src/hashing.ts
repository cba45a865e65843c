/** Local file hashing on worker threads (`@filer/storage/hashing`): loaded only by commands that hash. */
export * from './local/local-file-hasher.js';
