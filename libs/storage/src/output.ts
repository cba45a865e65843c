/**
 * Writing what a command outputs (`@filer/storage/output`): blocking writes to a file descriptor,
 * and new files written whole. Apart from the main entry, so the CLI's start-up loads only this.
 */
export * from './local/fd-writer.js';
export * from './local/new-file.js';
