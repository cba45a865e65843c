import { pino, type Logger } from 'pino';

/** JSON logs on stdout, one line per event; job and shard ids go in as fields (`log.child({ jobId })`). */
export function createLogger(app: string, level = process.env.FILER_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: app, level, base: { app, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

export type { Logger };
