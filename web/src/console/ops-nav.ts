/** The navigation items of the console's operations pages (packages, APIs, traffic, announcements, audit log). */
import type { ConsoleNavItem } from './nav';

export const opsNav: ConsoleNavItem[] = [
  { to: '/packages', label: 'Permission packages' },
  { to: '/package-requests', label: 'Package requests' },
  { to: '/apis', label: 'Offline APIs' },
  { to: '/traffic', label: 'Traffic and reports' },
  { to: '/announcements', label: 'Announcements' },
  { to: '/audit', label: 'Audit log' },
];
