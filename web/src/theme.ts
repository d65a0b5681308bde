/**
 * The platform's look (shared with the passport's server-rendered pages, which copy these values):
 * one deep blue as the primary color, dark enough that white text on it and it as text on white
 * both pass WCAG AA contrast. Mantine's light, outline and subtle variants draw text in a color's
 * middle shade, which on a pale background falls under AA (4.5:1) for yellow, orange, green and
 * blue; here their text takes the color's darkest shade, darkened further, and dimmed text is one
 * step darker than Mantine's default, and error text red's darkest shade, for the same reason.
 */
import { createTheme, darken, defaultVariantColorsResolver, parseThemeColor, type CSSVariablesResolver, type MantineColorsTuple, type VariantColorsResolver } from '@mantine/core';

export const porticoBlue: MantineColorsTuple = ['#e7f0f9', '#cddff1', '#9dbfe3', '#6a9dd5', '#4181c9', '#2a70c2', '#1f63b0', '#17528f', '#134679', '#0d3760'];

const READABLE_ON_PALE = new Set(['light', 'outline', 'subtle', 'transparent']);

const variantColorResolver: VariantColorsResolver = (input) => {
  const resolved = defaultVariantColorsResolver(input);
  if (!READABLE_ON_PALE.has(input.variant)) return resolved;
  const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme, colorScheme: 'light' });
  if (!parsed.isThemeColor) return resolved;
  const text = darken(input.theme.colors[parsed.color]![9], 0.35);
  return { ...resolved, color: text, hoverColor: text, ...(input.variant === 'outline' ? { border: `1px solid ${text}` } : {}) };
};

export const theme = createTheme({
  primaryColor: 'portico',
  primaryShade: { light: 7, dark: 4 },
  colors: { portico: porticoBlue },
  autoContrast: true,
  // Transitions off for people who ask their system for less motion.
  respectReducedMotion: true,
  variantColorResolver,
  defaultRadius: 'md',
  // A link inside text is told apart by more than its color (WCAG 1.4.1).
  components: { Anchor: { defaultProps: { underline: 'always' } } },
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif' },
});

export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: { '--mantine-color-dimmed': t.colors.gray[7], '--mantine-color-error': t.colors.red[9] },
  dark: {},
});
