/**
 * The console's operations on developers and announcements, put together: developer accounts
 * (developer-admin.ts), announcements (announcement-admin.ts) and the runner that emails them
 * (announcement-emails.ts), which runs as the subgraph's background work.
 */
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import type { Logger } from '../../core/logger.js';
import { createAnnouncementAdminResolvers, createAnnouncementAdminStore } from './announcement-admin.js';
import { startAnnouncementEmailRunner, type AnnouncementEmailRunner } from './announcement-emails.js';
import { createDeveloperAdminResolvers, createDeveloperAdminStore } from './developer-admin.js';
import type { Mailer } from './mailer.js';

export interface ConsoleOperationsOptions {
  db: Db;
  clock: Clock;
  /** The portal's mailer: the developer's emails come the same way. */
  mailer: Mailer;
  logger: Logger;
  /** PUBLIC_URL: links in email go to its /portal. */
  publicUrl: string;
}

export function createConsoleOperations(options: ConsoleOperationsOptions) {
  const { db, clock, mailer, logger, publicUrl } = options;
  let emails: AnnouncementEmailRunner | undefined;
  const developers = createDeveloperAdminResolvers(createDeveloperAdminStore(db, clock), mailer, publicUrl);
  const announcements = createAnnouncementAdminResolvers(createAnnouncementAdminStore(db, clock), clock, () => void emails?.runDue());
  return {
    Query: { ...developers.Query, ...announcements.Query },
    Mutation: { ...developers.Mutation, ...announcements.Mutation },
    Developer: developers.Developer,
    Announcement: announcements.Announcement,
    background: {
      start() {
        emails ??= startAnnouncementEmailRunner({ db, clock, mailer, logger, publicUrl });
      },
      async stop() {
        await emails?.stop();
        emails = undefined;
      },
    },
  };
}
