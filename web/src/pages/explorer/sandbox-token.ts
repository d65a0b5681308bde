/**
 * The app's sandbox access token for the explorer: issued by the platform for the signed-in
 * developer's app (issueSandboxToken), kept in memory only (never in localStorage or a cookie), and
 * issued again shortly before it expires, so a long session in the explorer keeps working.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { graphql } from '../../lib';
import { ISSUE_SANDBOX_TOKEN, type SandboxToken } from './operations';

/** A token this close to its expiry is replaced before the next request. */
const RENEW_BEFORE_MS = 60_000;

export interface SandboxTokenState {
  token: SandboxToken | undefined;
  error: unknown;
  /** A token valid for the next request (issued again when it is about to expire). */
  current: () => Promise<string>;
  retry: () => void;
}

export function useSandboxToken(appKey: string): SandboxTokenState {
  const [token, setToken] = useState<SandboxToken>();
  const [error, setError] = useState<unknown>();
  const [attempt, setAttempt] = useState(0);
  const latest = useRef<{ appKey: string; token?: SandboxToken; pending?: Promise<SandboxToken> }>({ appKey });

  const issue = useCallback(async (): Promise<SandboxToken> => {
    const slot = latest.current;
    slot.pending ??= graphql(ISSUE_SANDBOX_TOKEN, { appKey: slot.appKey })
      .then(({ issueSandboxToken }) => {
        if (latest.current === slot) {
          slot.token = issueSandboxToken;
          setToken(issueSandboxToken);
          setError(undefined);
        }
        return issueSandboxToken;
      })
      .finally(() => {
        slot.pending = undefined;
      });
    return slot.pending;
  }, []);

  useEffect(() => {
    latest.current = { appKey };
    setToken(undefined);
    setError(undefined);
    issue().catch((failure: unknown) => setError(failure));
  }, [appKey, attempt, issue]);

  const current = useCallback(async () => {
    const held = latest.current.token;
    // Date.now() only decides when to ask for a fresh token; the platform decides validity.
    if (held && Date.parse(held.expiresAt) - Date.now() > RENEW_BEFORE_MS) return held.accessToken;
    return (await issue()).accessToken;
  }, [issue]);

  return { token, error, current, retry: () => setAttempt((n) => n + 1) };
}
