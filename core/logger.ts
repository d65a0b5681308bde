/** Structured logging (pino). Secrets never reach a log: tokens and authorization headers are redacted. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'portico'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['token', 'accessToken', 'secret', 'password', 'authorization', 'headers.authorization', '*.authorization'],
      censor: '[redacted]',
    },
  });
}
