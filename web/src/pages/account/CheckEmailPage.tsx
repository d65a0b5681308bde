/** After sign-up: where the verification link went, and sending it again. */
import { Alert, Anchor, Button, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { authApi, describeAuthError, useDocumentTitle } from '../../lib';
import { FormError } from './form';

export default function CheckEmailPage() {
  useDocumentTitle('Check your email');
  const [params] = useSearchParams();
  const email = params.get('email') ?? '';
  const [sent, setSent] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const resend = async () => {
    setSending(true);
    setError(null);
    try {
      await authApi.resendVerification(email);
      setSent(true);
    } catch (failure) {
      setError(describeAuthError(failure));
    } finally {
      setSending(false);
    }
  };

  return (
    <Stack>
      <Title order={1} size="h3">
        Check your email
      </Title>
      <Text>
        We sent a verification link to {email ? <strong>{email}</strong> : 'your email address'}. Open it to activate your account; it expires in 24 hours.
      </Text>
      <Text size="sm" c="dimmed">
        Running the platform locally without an SMTP server? The email is in the{' '}
        <Anchor href="/dev/mailbox" target="_blank" rel="noopener">
          local mailbox
        </Anchor>
        .
      </Text>
      {sent && (
        <Alert color="green" variant="light" role="status">
          If this address has an account waiting for verification, a new link is on its way.
        </Alert>
      )}
      <FormError message={error} />
      {email && (
        <Button variant="default" onClick={resend} loading={sending}>
          Send the link again
        </Button>
      )}
      <Anchor component={Link} to="/sign-in" size="sm" ta="center">
        Back to sign in
      </Anchor>
    </Stack>
  );
}
