/** An item of the console's navigation bar: a route under /console and its label. */
export interface ConsoleNavItem {
  to: string;
  label: string;
}

/** The items of the developers' and apps' pages (the operations pages add theirs in ops-nav.ts). */
export const REVIEW_NAV: ConsoleNavItem[] = [
  { to: '/developers', label: 'Developers' },
  { to: '/apps', label: 'Apps' },
  { to: '/reviews', label: 'Review queue' },
];
