/**
 * Developer accounts and the developer principal, over real HTTP against a real database, with a
 * real SMTP server in-process (smtp-server) that the platform sends its email to.
 */
import crypto from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { adjustableClock } from './helpers/clock.js';
import { cookieHeaderOf, originOf, portalGraphQL, postJson, signInDeveloper, signUpDeveloper, tokenOfLink } from './helpers/developer.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

interface ReceivedMail {
  to: string[];
  raw: string;
}

/** The text of a raw message: headers dropped, quoted-printable soft breaks and escapes undone. */
function bodyOf(raw: string): string {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
const subjectOf = (raw: string) => /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '';

let smtp: SMTPServer;
const inbox: ReceivedMail[] = [];
let t: TestPlatform;
const clock = adjustableClock();

/** The newest message to `email` whose subject holds `subjectPart` (waits for it to arrive). */
async function mailTo(email: string, subjectPart: string, after = 0): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = inbox.slice(after).reverse().find((m) => m.to.includes(email) && subjectOf(m.raw).includes(subjectPart));
    if (found) return bodyOf(found.raw);
    if (Date.now() > deadline) throw new Error(`no email "${subjectPart}" to ${email}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as { port: number }).port;
  t = await startTestPlatform({ clock, extraEnv: { SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Portico Test <portal@example.com>' } });
});

afterAll(async () => {
  await t?.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

const VIEWER = 'query { viewerDeveloper { id kind name companyName email emailVerified verificationStatus announcementEmails } }';

test('a developer signs up, reads the verification email from the SMTP server, verifies, signs in and reads viewerDeveloper', async () => {
  const email = `ada-${crypto.randomUUID()}@example.com`;
  const dev = await signUpDeveloper(t, { email, name: 'Ada', kind: 'COMPANY', companyName: 'Ada ISV' }, { readMail: (to) => mailTo(to, 'Verify') });
  const viewer = await dev.gql(VIEWER);
  expect(viewer.errors).toBeUndefined();
  expect(viewer.data!.viewerDeveloper).toMatchObject({ id: dev.developerId, kind: 'COMPANY', name: 'Ada', companyName: 'Ada ISV', email, emailVerified: true, announcementEmails: true });
});
