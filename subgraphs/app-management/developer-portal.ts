/**
 * The developer portal's accounts side of app-management, put together: accounts and sessions
 * (developers.ts), announcements (developer-announcements.ts) and the mailer they send with.
 */
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { createLogger, type Logger } from '../../core/logger.js';
import { createAnnouncementResolvers, createAnnouncementStore } from './developer-announcements.js';
import { createDeveloperAccounts, createDeveloperResolvers } from './developers.js';
import { createMailer } from './mailer.js';

export interface DeveloperPortalOptions {
  /** PUBLIC_URL: links in email go to its /portal. */
  publicUrl: string;
  /** SMTP_URL (undefined: the local mailbox) and MAIL_FROM. */
  mail: { smtpUrl: string | undefined; from: string };
  logger: Logger;
}

/** Without options (a subgraph built outside the platform): the local mailbox, links to the default origin. */
const DEFAULTS: DeveloperPortalOptions = { publicUrl: 'http://127.0.0.1:4000', mail: { smtpUrl: undefined, from: 'Portico <no-reply@portico.localhost>' }, logger: createLogger('silent') };

export function createDeveloperPortal(db: Db, clock: Clock, options: DeveloperPortalOptions = DEFAULTS) {
  const mailer = createMailer({ smtpUrl: options.mail.smtpUrl, from: options.mail.from, db, logger: options.logger });
  const accounts = createDeveloperResolvers(createDeveloperAccounts({ db, clock, mailer, publicUrl: options.publicUrl }), mailer);
  const announcements = createAnnouncementResolvers(createAnnouncementStore(db, clock));
  return {
    Query: { ...accounts.Query, ...announcements.Query },
    Mutation: accounts.Mutation,
    Developer: accounts.Developer,
    Announcement: announcements.Announcement,
    /** For the console's emails to developers (console-operations.ts), sent the same way. */
    mailer,
    options,
  };
}
