/**
 * Email to buyers (the verification code of a new account), through nodemailer to SMTP_URL. Without
 * SMTP_URL (the embedded default, for development) the message is written to the log instead, as
 * app-management does for developers, so a newcomer can register a buyer without a mail server.
 * A message that cannot be sent is logged without its code; registering again sends a new one.
 */
import nodemailer from 'nodemailer';
import type { Logger } from '../../core/logger.js';

export interface BuyerMail {
  to: string;
  subject: string;
  text: string;
}

export type SendBuyerMail = (mail: BuyerMail) => Promise<void>;

export function createBuyerMailer(options: { smtpUrl: string | undefined; from: string; logger: Logger }): SendBuyerMail {
  const { logger } = options;
  if (!options.smtpUrl) {
    return async (mail) => {
      logger.info({ to: mail.to, subject: mail.subject, text: mail.text }, 'buyer email (no SMTP_URL: logged, not sent)');
    };
  }
  const transport = nodemailer.createTransport({ url: options.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 10_000 });
  return async (mail) => {
    try {
      await transport.sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.text });
    } catch (error) {
      logger.error({ err: error, to: mail.to, subject: mail.subject }, 'buyer email not sent');
    }
  };
}
