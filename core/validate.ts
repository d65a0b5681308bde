/** Input checks shared by the subgraphs; each failure is a BAD_USER_INPUT naming the field. */
import { badInput } from './errors.js';
import { isUuid } from './pagination.js';

/** Characters text may not hold: NUL (PostgreSQL cannot store it) and the other C0 controls but tab and line breaks. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function text(value: string, field: string, options: { max: number; min?: number }): string {
  if (CONTROL.test(value)) throw badInput(`${field} must not contain control characters`, field);
  const trimmed = value.trim();
  if (trimmed.length < (options.min ?? 1)) throw badInput(`${field} must not be empty`, field);
  if (trimmed.length > options.max) throw badInput(`${field} must be at most ${options.max} characters`, field);
  return trimmed;
}

export function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === null || value === undefined) return null;
  if (CONTROL.test(value)) throw badInput(`${field} must not contain control characters`, field);
  const trimmed = value.trim();
  if (trimmed.length > max) throw badInput(`${field} must be at most ${max} characters`, field);
  return trimmed.length ? trimmed : null;
}

export function id(value: string, field: string): string {
  if (!isUuid(value)) throw badInput(`${field} is not a valid id`, field);
  return value.toLowerCase();
}

/** An id that cannot exist (malformed) is reported the same as one that does not exist. */
export const isWellFormedId = isUuid;

export function intInRange(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(`${field} must be an integer from ${min} to ${max}`, field);
  return value;
}

export function currency(value: string, field: string): string {
  if (!/^[A-Z]{3}$/.test(value)) throw badInput(`${field} must be an ISO-4217 code such as USD`, field);
  return value;
}

export function idempotencyKey(value: string, field = 'idempotencyKey'): string {
  if (!/^[\x21-\x7e]{1,128}$/.test(value)) throw badInput(`${field} must be 1 to 128 printable ASCII characters without spaces`, field);
  return value;
}
