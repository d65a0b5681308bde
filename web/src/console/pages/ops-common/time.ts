/**
 * Moments as the console's forms take them: an <input type="datetime-local"> holds the operator's
 * local wall-clock time without a zone; the API takes and gives UTC instants (ISO 8601).
 */

/** The local wall-clock value of an input for an instant (ms or ISO), to the minute. */
export function toLocalInput(instant: number | string): string {
  const date = new Date(instant);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The UTC instant of an input's local value; undefined when empty or not a date. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
