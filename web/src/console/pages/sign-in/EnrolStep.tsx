/**
 * An operator's first sign-in: set up an authenticator app (the QR code, or the secret typed in),
 * prove it with a code, and then the recovery codes, shown this once.
 */
import { Alert, Button, Center, Image, Stack, Text, Title } from '@mantine/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { CopyableCode, PageLoader } from '../../../lib';
import { FormError } from '../../../pages/account/form';
import { operatorAuth, type OperatorProfile, type TotpEnrolment } from '../../auth-api';
import { CodeInput } from '../../components/CodeInput';
import { describeSignInError, signInLapsed } from './describe';

export function EnrolStep({ onEnrolled, onLapsed }: { onEnrolled: (operator: OperatorProfile, recoveryCodes: string[]) => void; onLapsed: (message: string) => void }) {
  const [enrolment, setEnrolment] = useState<TotpEnrolment>();
  const [loadError, setLoadError] = useState<unknown>();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  // One enrolment per visit of the step, even when React runs the effect twice (a second request could
  // start over with another secret).
  const request = useRef<Promise<TotpEnrolment>>(undefined);
  useEffect(() => {
    let current = true;
    request.current ??= operatorAuth.enrolment();
    request.current.then(
      (answer) => current && setEnrolment(answer),
      (failure: unknown) => {
        if (!current) return;
        if (signInLapsed(failure)) onLapsed(describeSignInError(failure));
        else setLoadError(failure);
      },
    );
    return () => {
      current = false;
    };
  }, [onLapsed]);

  const send = async (value: string) => {
    if (!/^\d{6}$/.test(value)) return setError('Enter the 6 digits your authenticator app shows.');
    setSubmitting(true);
    setError(null);
    try {
      const answer = await operatorAuth.enrol(value);
      onEnrolled(answer.operator, answer.recoveryCodes);
    } catch (failure) {
      if (signInLapsed(failure)) return onLapsed(describeSignInError(failure));
      setError(describeSignInError(failure));
      setCode('');
    } finally {
      setSubmitting(false);
    }
  };

  if (loadError) {
    return (
      <Alert color="red" role="alert" title="The enrolment could not start">
        {describeSignInError(loadError)}
      </Alert>
    );
  }
  if (!enrolment) return <PageLoader label="Preparing your authenticator set-up" />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void send(code);
  };

  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <Title order={1} size="h3">
          Set up your authenticator
        </Title>
        <Text size="sm">
          Operators sign in with a second factor. Scan this QR code with an authenticator app (any app for time-based codes, RFC 6238), then enter the code it shows.
        </Text>
        <Center>
          <Image src={enrolment.qrCode} alt="QR code to add your operator account to an authenticator app" w={200} h={200} fit="contain" data-testid="totp-qr-code" />
        </Center>
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            Or type this secret into the app
          </Text>
          <CopyableCode value={enrolment.secret} label="the authenticator secret" testId="totp-secret" />
        </Stack>
        <FormError message={error} />
        <CodeInput label="Code from your authenticator app" value={code} onChange={setCode} onComplete={(value) => void send(value)} disabled={submitting} />
        <Button type="submit" loading={submitting}>
          Confirm the code
        </Button>
      </Stack>
    </form>
  );
}
