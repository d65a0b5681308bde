/** An audit entry's details (a JSON string) as indented text; left as it is when it is not JSON. */
export function prettyDetails(details: string): string {
  try {
    const value: unknown = JSON.parse(details);
    if (value && typeof value === 'object' && Object.keys(value).length === 0) return '';
    return JSON.stringify(value, null, 2);
  } catch {
    return details;
  }
}
