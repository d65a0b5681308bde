/** Asks for a password-reset link by email (the answer never says whether the address has an account). */
import { Alert, Anchor, Button, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { authApi, describeAuthError, useDocumentTitle } from '../../lib';
import { FormError } from './form';

export default function ForgotPasswordPage() {
  useDocumentTitle('Forgot password');
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim()) {
      setError('Enter the email address of your account.');
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      await authApi.requestPasswordReset(email.trim());
      setSent(true);
    } catch (failure) {
      setError(describeAuthError(failure));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate aria-labelledby="forgot-title">
      <Stack>
        <Title order={1} size="h3" id="forgot-title">
          Reset your password
        </Title>
        {sent ? (
          <Alert color="green" variant="light" role="status" title="Check your email">
            If {email.trim()} has an account, a link to choose a new password is on its way. It works for one hour.
          </Alert>
        ) : (
          <>
            <Text size="sm" c="dimmed">
              We will email you a link to choose a new password.
            </Text>
            <TextInput label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
            <FormError message={error} />
            <Button type="submit" loading={submitting} fullWidth>
              Email me a reset link
            </Button>
          </>
        )}
        <Anchor component={Link} to="/sign-in" size="sm" ta="center">
          Back to sign in
        </Anchor>
      </Stack>
    </form>
  );
}
