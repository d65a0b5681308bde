/**
 * Operators' second factor: TOTP (RFC 6238, with otplib: SHA-1, 6 digits, 30-second steps, the
 * authenticator apps' defaults) and recovery codes.
 *
 * - The TOTP secret is kept sealed (AES-256-GCM under the platform's newest key-encryption key,
 *   messages/crypto.ts), never in plaintext. While an enrolment is under way the seal is bound to
 *   the pending session that started it (its additional authenticated data names the session), so
 *   a secret shown to one sign-in (perhaps someone else who had the password) never becomes the
 *   operator's second factor unless that same sign-in proves it with a code; enrolment's end
 *   re-seals it for the operator alone.
 * - A code is good within one step either side of now (clock drift, a code typed as it turned), and
 *   once: the step of the last accepted code is kept and nothing at or before it is accepted again.
 * - Recovery codes: 10 random codes of 50 bits, shown once; only their SHA-256 is kept (random
 *   values need no salt or stretching), and a used one is removed.
 */
import crypto from 'node:crypto';
import { generate, generateSecret, generateURI, verify } from 'otplib';
import { open, seal, type Kek } from '../../core/sealing.js';

/** The issuer authenticator apps show next to the account. */
export const TOTP_ISSUER = 'Portico';
/** Seconds per TOTP step. */
export const TOTP_PERIOD_SECONDS = 30;
/** Recovery codes made at enrolment. */
export const RECOVERY_CODE_COUNT = 10;

/** Crockford's base32 without look-alikes: what a person copies from a sheet of paper. */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const SIX_DIGITS = /^\d{6}$/;

export const newTotpSecret = () => generateSecret({ length: 20 });

export function totpUri(email: string, secret: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: email, secret, period: TOTP_PERIOD_SECONDS });
}

const enrolmentAad = (operatorId: string, sessionId: string) => `operator-totp:${operatorId}:enrolling:${sessionId}`;
const enrolledAad = (operatorId: string) => `operator-totp:${operatorId}`;

function sealWith(keks: readonly Kek[], secret: string, aad: string): string {
  const kek = keks[0];
  if (!kek) throw new Error('sealing a TOTP secret needs a key-encryption key');
  return `${kek.id}.${seal(kek.key, secret, aad)}`;
}

/** The secret, or undefined when the seal is not for `aad` (another session's enrolment, an unknown key). */
function openWith(keks: readonly Kek[], sealed: string | null, aad: string): string | undefined {
  if (!sealed) return undefined;
  const dot = sealed.indexOf('.');
  const kek = keks.find((k) => k.id === sealed.slice(0, dot));
  if (dot < 0 || !kek) return undefined;
  try {
    return open(kek.key, sealed.slice(dot + 1), aad).toString('utf8');
  } catch {
    return undefined;
  }
}

export function createTotpSeal(keks: readonly Kek[]) {
  return {
    /** Sealed for the enrolment a pending session started. */
    sealForEnrolment: (operatorId: string, sessionId: string, secret: string) => sealWith(keks, secret, enrolmentAad(operatorId, sessionId)),
    openForEnrolment: (operatorId: string, sessionId: string, sealed: string | null) => openWith(keks, sealed, enrolmentAad(operatorId, sessionId)),
    /** Sealed as the enrolled operator's second factor. */
    sealEnrolled: (operatorId: string, secret: string) => sealWith(keks, secret, enrolledAad(operatorId)),
    openEnrolled: (operatorId: string, sealed: string | null) => openWith(keks, sealed, enrolledAad(operatorId)),
  };
}

export type TotpSeal = ReturnType<typeof createTotpSeal>;

/**
 * The time step of `code` if it is the secret's code within one step of `nowMs` and later than
 * `afterStep` (the last one accepted); undefined otherwise. otplib compares in constant time.
 */
export async function acceptedTotpStep(secret: string, code: string, nowMs: number, afterStep: number | null): Promise<number | undefined> {
  const token = code.replace(/\s/g, '');
  if (!SIX_DIGITS.test(token)) return undefined;
  const result = await verify({
    secret,
    token,
    epoch: Math.floor(nowMs / 1000),
    period: TOTP_PERIOD_SECONDS,
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

/** The current code of a secret (for the CLI's and tests' own use; the server only verifies). */
export const totpCodeAt = (secret: string, nowMs: number) => generate({ secret, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD_SECONDS });

/** RECOVERY_CODE_COUNT new codes, `xxxxx-xxxxx`, and the hashes to keep. */
export function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = crypto.randomBytes(10);
    const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b & 31]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
  return { codes, hashes: codes.map(recoveryCodeHash) };
}

/** The SHA-256 (hex) a recovery code is kept as; case, spaces and dashes as typed do not matter. */
export function recoveryCodeHash(code: string): string {
  const normalized = code.toLowerCase().replace(/[\s-]/g, '');
  return crypto.createHash('sha256').update(normalized, 'utf8').digest('hex');
}
