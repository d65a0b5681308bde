/** Dates and numbers as the portal shows them: in the reader's locale and time zone. */
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const number = new Intl.NumberFormat();

export const formatDateTime = (iso: string | null | undefined): string => (iso ? dateTime.format(new Date(iso)) : '—');
export const formatNumber = (value: number | null | undefined): string => (value === null || value === undefined ? '—' : number.format(value));
