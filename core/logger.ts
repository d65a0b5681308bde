/**
 * Structured logging (pino). Secrets never reach a log: tokens and authorization headers are
 * redacted, and so are the parameters of failed SQL statements (they can hold personal data and
 * secret hashes), which database errors otherwise carry in their message.
 */
import { pino, type Logger } from 'pino';

const SQL_PARAMS = /(\n\s*params: )[\s\S]*?(?=\n\s+at |$)/g;

function redactQueryParameters(error: unknown): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  const scrub = (value: unknown): unknown => (typeof value === 'string' ? value.replace(SQL_PARAMS, '$1[redacted]') : value);
  const walk = (node: Record<string, unknown>, depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'params') out[key] = '[redacted]';
      else if (value && typeof value === 'object' && depth < 4) out[key] = walk(value as Record<string, unknown>, depth + 1);
      else out[key] = scrub(value);
    }
    return out;
  };
  return walk(serialized, 0);
}

export type { Logger };

/** A logger writing JSON lines to stdout (or to `destination`, for tests). */
export function createLogger(level: string, name = 'portico', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    serializers: { err: redactQueryParameters },
    redact: {
      paths: ['token', 'accessToken', 'secret', 'password', 'authorization', 'headers.authorization', '*.authorization'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
