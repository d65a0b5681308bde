/**
 * Emails each announcement, once its publish time has come, to the developers it targets who chose
 * announcement emails; in every process that runs app-management, each announcement by one of them.
 *
 * A pass claims one due, un-emailed, not withdrawn announcement at a time: in a short transaction it
 * locks the row `FOR UPDATE SKIP LOCKED` (a row another process is claiming is skipped) and sets
 * `emailed_at`, then sends after the commit. So no announcement is emailed twice, however many
 * processes poll, and no transaction stays open while mail servers answer (the embedded database is
 * one connection the whole platform shares). The price: a process that dies between the claim and
 * its last email leaves the rest unsent; the mailer itself never retries a failed delivery either
 * (mailer.ts), and the announcement stays readable in the portal.
 *
 * Who receives it is decided when it is sent: developers whose apps hold one of its packages then
 * (or every developer), with a verified address, announcement emails on, and not disabled.
 *
 * The runner looks every POLL_MS on the injected clock (a scheduled announcement comes due with no
 * request to say so), and at once when a request published one (`runDue`).
 */
import { and, asc, eq, inArray, isNotNull, isNull, lte } from 'drizzle-orm';
import type { Clock, ClockTimer } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import type { Logger } from '../../core/logger.js';
import { audit } from './audit.js';
import type { AnnouncementRow } from './developer-announcements.js';
import type { Mailer } from './mailer.js';
import { announcements, apps, developers, packageGrants } from './tables.js';

/** How often each process looks for announcements come due: a scheduled one is emailed this late at most. */
const POLL_MS = 5_000;
/** Who claims and sends, in the audit log. */
const ACTOR = 'system:announcement-emails';

export interface AnnouncementEmailRunner {
  /** Emails every announcement due now (after a pass already under way); resolves with how many were claimed. */
  runDue(): Promise<number>;
  /** Stops polling and waits for the pass under way (its claimed announcement is sent in full). */
  stop(): Promise<void>;
}

export interface AnnouncementEmailOptions {
  db: Db;
  clock: Clock;
  mailer: Mailer;
  logger: Logger;
  /** PUBLIC_URL: the email links to the portal's announcements. */
  publicUrl: string;
}

export function startAnnouncementEmailRunner(options: AnnouncementEmailOptions): AnnouncementEmailRunner {
  const { db, clock, mailer } = options;
  const logger = options.logger.child({ component: 'announcement-emails' });
  let wake: ClockTimer | undefined;
  let stopped = false;
  let inFlight: Promise<unknown> = Promise.resolve();

  /** Takes one due announcement for this process (emailed_at set), or undefined when none is left. */
  async function claim(): Promise<AnnouncementRow | undefined> {
    const now = new Date(clock.now());
    return db.transaction(async (tx) => {
      const [due] = await tx
        .select()
        .from(announcements)
        .where(and(isNull(announcements.emailedAt), isNull(announcements.withdrawnAt), isNotNull(announcements.publishAt), lte(announcements.publishAt, now)))
        .orderBy(asc(announcements.publishAt))
        .limit(1)
        .for('update', { skipLocked: true });
      if (!due) return undefined;
      await tx.update(announcements).set({ emailedAt: now }).where(eq(announcements.id, due.id));
      return due;
    });
  }

  async function recipientsOf(announcement: AnnouncementRow) {
    const holders = announcement.packageIds?.length
      ? db
          .select({ developerId: apps.developerId })
          .from(packageGrants)
          .innerJoin(apps, eq(apps.id, packageGrants.appId))
          .where(and(inArray(packageGrants.packageId, announcement.packageIds), isNull(packageGrants.revokedAt)))
      : undefined;
    return db
      .select({ id: developers.id, name: developers.name, email: developers.email })
      .from(developers)
      .where(and(eq(developers.announcementEmails, true), isNotNull(developers.emailVerifiedAt), isNull(developers.disabledAt), holders ? inArray(developers.id, holders) : undefined))
      .orderBy(asc(developers.createdAt));
  }

  async function send(announcement: AnnouncementRow): Promise<void> {
    const recipients = await recipientsOf(announcement);
    // The Markdown as written is the plain text (no HTML part: no sanitizing renderer runs on the server).
    const footer = `\n\n--\nYou receive this because your developer profile asks for announcement emails (announcementEmails). Every announcement is also at ${options.publicUrl}/portal/announcements.\n`;
    for (const developer of recipients) {
      await mailer.send({ to: developer.email, subject: `Portico: ${announcement.title}`, text: `Hello ${developer.name},\n\n${announcement.body}${footer}` });
    }
    await audit(db, {
      actor: ACTOR,
      action: 'announcement.emailed',
      targetType: 'announcement',
      targetId: announcement.id,
      at: new Date(clock.now()),
      details: { recipients: recipients.length },
    });
    logger.info({ announcementId: announcement.id, recipients: recipients.length }, 'announcement emailed');
  }

  async function pass(): Promise<number> {
    let claimed = 0;
    while (!stopped) {
      const announcement = await claim();
      if (!announcement) break;
      claimed += 1;
      // Claimed is never claimed again: a failure here is the end of this announcement's emails.
      await send(announcement).catch((error: unknown) =>
        logger.error({ err: error, announcementId: announcement.id }, 'announcement emails cut short: the rest are not sent'),
      );
    }
    return claimed;
  }

  function runDue(): Promise<number> {
    const run = inFlight.then(async () => {
      try {
        return await pass();
      } catch (error) {
        logger.error({ err: error }, 'due announcements could not be claimed; trying again at the next poll');
        return 0;
      } finally {
        sleep();
      }
    });
    inFlight = run;
    return run;
  }

  function sleep() {
    clock.clearTimeout(wake);
    wake = undefined;
    if (stopped) return;
    wake = clock.setTimeout(() => {
      wake = undefined;
      void runDue();
    }, POLL_MS);
    wake.unref();
  }

  void runDue();
  return {
    runDue,
    async stop() {
      stopped = true;
      clock.clearTimeout(wake);
      wake = undefined;
      await inFlight.catch(() => undefined);
    },
  };
}
