/** The second factor for an enrolled operator: the authenticator's current code, or one recovery code. */
import { Anchor, Button, Stack, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { FormError } from '../../../pages/account/form';
import { CodeInput } from '../../components/CodeInput';
import { operatorAuth, type OperatorProfile } from '../../auth-api';
import { describeSignInError, signInLapsed } from './describe';

export function CodeStep({ onDone, onLapsed }: { onDone: (operator: OperatorProfile, recoveryCodesLeft: number) => void; onLapsed: (message: string) => void }) {
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState('');
  const [recoveryCode, setRecoveryCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const send = async (proof: { code: string } | { recoveryCode: string }) => {
    setSubmitting(true);
    setError(null);
    try {
      const answer = await operatorAuth.verify(proof);
      onDone(answer.operator, answer.recoveryCodesLeft);
    } catch (failure) {
      if (signInLapsed(failure)) return onLapsed(describeSignInError(failure));
      setError(describeSignInError(failure));
      setCode('');
    } finally {
      setSubmitting(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (useRecovery) {
      if (!recoveryCode.trim()) return setError('Enter one of your recovery codes.');
      return void send({ recoveryCode: recoveryCode.trim() });
    }
    if (!/^\d{6}$/.test(code)) return setError('Enter the 6 digits your authenticator app shows.');
    void send({ code });
  };

  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <Title order={1} size="h3">
          {useRecovery ? 'Use a recovery code' : 'Enter your code'}
        </Title>
        <FormError message={error} />
        {useRecovery ? (
          <TextInput
            label="Recovery code"
            description="One of the codes you stored when you set up your authenticator. Each works once."
            autoComplete="one-time-code"
            value={recoveryCode}
            onChange={(e) => setRecoveryCode(e.currentTarget.value)}
            autoFocus
          />
        ) : (
          <CodeInput label="Code from your authenticator app" value={code} onChange={setCode} onComplete={(value) => void send({ code: value })} disabled={submitting} />
        )}
        <Button type="submit" loading={submitting}>
          Sign in
        </Button>
        <Anchor
          component="button"
          type="button"
          size="sm"
          onClick={() => {
            setUseRecovery(!useRecovery);
            setError(null);
          }}
        >
          {useRecovery ? 'Use a code from your authenticator app instead' : 'Use a recovery code instead'}
        </Anchor>
      </Stack>
    </form>
  );
}
