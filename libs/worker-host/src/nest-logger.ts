import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@filer/observability';

/** Nest's own messages in the app's JSON log: its start-up chatter at debug, its warnings and errors as such. */
export class NestLogger implements LoggerService {
  constructor(private readonly out: Logger) {}

  log(message: unknown, context?: string): void {
    this.out.debug({ context }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.out.warn({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.out.error({ context, trace }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.out.trace({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.out.trace({ context }, String(message));
  }
}
