/**
 * The routes of the console's operations pages (packages, APIs, traffic, announcements, audit log),
 * under the signed-in frame. Each page is its own chunk, loaded when first visited.
 */
import type { RouteObject } from 'react-router';
import { page } from './page';

export const opsRoutes: RouteObject[] = [
  { path: 'packages', ...page(() => import('./pages/packages/PackagesPage')) },
  { path: 'packages/new', ...page(() => import('./pages/packages/PackageEditorPage')) },
  { path: 'package-requests', ...page(() => import('./pages/packages/RequestsPage')) },
  { path: 'packages/grants', ...page(() => import('./pages/packages/GrantsPage')) },
  { path: 'packages/:packageId', ...page(() => import('./pages/packages/PackageEditorPage')) },
  { path: 'apis', ...page(() => import('./pages/apis/ApisPage')) },
  { path: 'traffic', ...page(() => import('./pages/traffic/TrafficPage')) },
  { path: 'traffic/apps/:appKey', ...page(() => import('./pages/traffic/AppTrafficPage')) },
  { path: 'announcements', ...page(() => import('./pages/announcements/AnnouncementsPage')) },
  { path: 'announcements/new', ...page(() => import('./pages/announcements/AnnouncementEditorPage')) },
  { path: 'announcements/:announcementId', ...page(() => import('./pages/announcements/AnnouncementEditorPage')) },
  { path: 'audit', ...page(() => import('./pages/audit/AuditLogPage')) },
];
