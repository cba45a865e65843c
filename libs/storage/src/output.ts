/**
 * Writing what a command outputs (`@filer/storage/output`): blocking writes to a file descriptor,
 * new files written whole, and the queue of paths `find -x` feeds its commands from. Apart from the main entry, so the CLI's start-up loads only this.
 */
export * from './local/fd-writer.js';
export * from './local/new-file.js';
export * from './local/path-queue.js';
