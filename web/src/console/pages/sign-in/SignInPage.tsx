/**
 * The console's sign-in: the password, then a first-time enrolment of an authenticator (with the
 * recovery codes shown once) or a code from it. The steps live in this page's state, never in its
 * address: the enrolment secret and the codes are not put in the browser's history.
 */
import { Alert } from '@mantine/core';
import { useCallback, useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { useDocumentTitle } from '../../../lib/layout';
import { sessionActive, type OperatorProfile, type SecondStep } from '../../auth-api';
import { useOperatorSession } from '../../session';
import { CodeStep } from './CodeStep';
import { EnrolStep } from './EnrolStep';
import { PasswordStep } from './PasswordStep';
import { RecoveryCodes } from './RecoveryCodes';

/** Only a path of the console itself: never a redirect to another site. */
const safeNext = (next: string | null) => (next && next.startsWith('/') && !next.startsWith('//') ? next : '/');

type Step = { kind: 'password' } | { kind: SecondStep } | { kind: 'recovery-codes'; operator: OperatorProfile; codes: string[] };

export default function SignInPage() {
  const { session, reload } = useOperatorSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [lapsed, setLapsed] = useState<string | null>(null);
  useDocumentTitle(step.kind === 'ENROL_TOTP' ? 'Set up your authenticator' : step.kind === 'recovery-codes' ? 'Your recovery codes' : 'Sign in');

  const enter = useCallback(async () => {
    // The session endpoint now answers the ACTIVE session (and its fresh CSRF token).
    await reload();
    navigate(next, { replace: true });
  }, [navigate, next, reload]);
  const onLapsed = useCallback((message: string) => {
    setLapsed(message);
    setStep({ kind: 'password' });
  }, []);

  // Already signed in (and not in the middle of reading the recovery codes): straight on.
  if (sessionActive(session) && step.kind === 'password') return <Navigate to={next} replace />;

  switch (step.kind) {
    case 'password':
      return (
        <>
          {lapsed && (
            <Alert color="yellow" variant="light" role="status" mb="md">
              {lapsed}
            </Alert>
          )}
          <PasswordStep
            onDone={(second) => {
              setLapsed(null);
              setStep({ kind: second });
            }}
          />
        </>
      );
    case 'ENROL_TOTP':
      return <EnrolStep onEnrolled={(operator, codes) => setStep({ kind: 'recovery-codes', operator, codes })} onLapsed={onLapsed} />;
    case 'TOTP':
      return <CodeStep onDone={() => void enter()} onLapsed={onLapsed} />;
    case 'recovery-codes':
      return <RecoveryCodes codes={step.codes} onContinue={() => void enter()} />;
  }
}
