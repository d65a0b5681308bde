/**
 * The platform's look (shared with the passport's server-rendered pages, which copy these values):
 * one deep blue as the primary color, dark enough that white text on it and it as text on white
 * both pass WCAG AA contrast; dimmed text one step darker than Mantine's default for the same reason.
 */
import { createTheme, type CSSVariablesResolver, type MantineColorsTuple } from '@mantine/core';

export const porticoBlue: MantineColorsTuple = ['#e7f0f9', '#cddff1', '#9dbfe3', '#6a9dd5', '#4181c9', '#2a70c2', '#1f63b0', '#17528f', '#134679', '#0d3760'];

export const theme = createTheme({
  primaryColor: 'portico',
  primaryShade: { light: 7, dark: 4 },
  colors: { portico: porticoBlue },
  autoContrast: true,
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif' },
});

export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: { '--mantine-color-dimmed': t.colors.gray[7] },
  dark: {},
});
