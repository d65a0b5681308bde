/**
 * Which link targets an announcement may have: http(s) addresses and paths on the platform (relative
 * ones, `/portal/...`, `#anchors`). Anything with another scheme (javascript:, data:, vbscript:,
 * mailto: ...) becomes an empty string, which the renderer shows as plain text.
 */
export function safeMarkdownUrl(url: string): string {
  const value = url.trim();
  // A scheme is letters, digits, + - . before the first ':' that comes before any / ? #.
  const colon = value.indexOf(':');
  const stop = value.search(/[/?#]/);
  const hasScheme = colon !== -1 && (stop === -1 || colon < stop);
  if (!hasScheme) return value.startsWith('//') ? '' : value;
  return /^https?:$/i.test(value.slice(0, colon + 1)) ? value : '';
}
