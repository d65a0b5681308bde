/** The first factor: email and password. */
import { Button, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { FormError } from '../../../pages/account/form';
import { operatorAuth, type SecondStep } from '../../auth-api';
import { describeSignInError } from './describe';

export function PasswordStep({ onDone }: { onDone: (next: SecondStep) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim() || !password) {
      setError('Enter your email and password.');
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      const { next } = await operatorAuth.signIn(email.trim(), password);
      onDone(next);
    } catch (failure) {
      setError(describeSignInError(failure));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <Title order={1} size="h3">
          Operator sign-in
        </Title>
        <Text size="sm" c="dimmed">
          Your password, then a code from your authenticator app.
        </Text>
        <FormError message={error} />
        <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} autoFocus />
        <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
        <Button type="submit" loading={submitting}>
          Continue
        </Button>
      </Stack>
    </form>
  );
}
