/**
 * Email to developers (verification and password-reset links, notices), through nodemailer:
 * - with SMTP_URL, to that server (`smtp://user:pass@host:port`, `smtps://...` for TLS from the start);
 * - without it (the embedded default), into the local mailbox (app_management.local_mailbox) and one
 *   log line with the recipient, the subject and the link, so a newcomer needs no mail server; the
 *   gateway shows the mailbox at /dev/mailbox (development only).
 * A message that cannot be sent is logged (without its link) and not retried: every link can be asked
 * for again (resend the verification, request another reset).
 */
import { desc } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import type { Db } from '../../core/db.js';
import type { Logger } from '../../core/logger.js';
import { localMailbox } from './tables.js';

export type LocalMailRow = typeof localMailbox.$inferSelect;

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** The one link the message is about (written to the log with the local mailbox, never with SMTP). */
  link?: string;
}

export interface Mailer {
  /** Sends (or keeps, without SMTP) one message; never throws for a delivery failure (it is logged). */
  send(mail: Mail): Promise<void>;
  /** True when mail goes to the local mailbox rather than an SMTP server. */
  readonly local: boolean;
  /** The local mailbox, newest first (what was kept while there was no SMTP_URL). */
  recent(limit: number): Promise<LocalMailRow[]>;
}

export interface MailerOptions {
  /** SMTP_URL; undefined: the local mailbox. */
  smtpUrl: string | undefined;
  /** MAIL_FROM: the From header. */
  from: string;
  db: Db;
  logger: Logger;
}

/** SMTP servers answer within this long, or the message is given up (and logged). */
const SMTP_TIMEOUT_MS = 10_000;

export function createMailer(options: MailerOptions): Mailer {
  const { db, logger, from } = options;
  const recent = (limit: number) => db.select().from(localMailbox).orderBy(desc(localMailbox.id)).limit(limit);
  if (options.smtpUrl) {
    const transport = nodemailer.createTransport({ url: options.smtpUrl, connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS });
    return {
      local: false,
      async send(mail) {
        try {
          await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
        } catch (error) {
          logger.error({ err: error, to: mail.to, subject: mail.subject }, 'email not sent');
        }
      },
      recent,
    };
  }
  return {
    local: true,
    async send(mail) {
      try {
        await db.insert(localMailbox).values({ to: mail.to, subject: mail.subject, text: mail.text });
        logger.info({ to: mail.to, subject: mail.subject, link: mail.link }, 'email kept in the local mailbox (no SMTP_URL): see /dev/mailbox');
      } catch (error) {
        logger.error({ err: error, to: mail.to, subject: mail.subject }, 'email not kept');
      }
    },
    recent,
  };
}
