/** The verification link's page: confirms the one-time token from ?token= once. */
import { Alert, Button, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { authApi, describeAuthError, PageLoader, useDocumentTitle } from '../../lib';

// A token is used up by its first confirmation: one request per token, even if the page renders twice.
const confirmations = new Map<string, Promise<unknown>>();

export default function VerifyPage() {
  useDocumentTitle('Verify your email');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [state, setState] = useState<'verifying' | 'verified' | { error: string }>(token ? 'verifying' : { error: 'This link has no token: open the link from the email as it is.' });

  useEffect(() => {
    if (!token) return;
    let confirmation = confirmations.get(token);
    if (!confirmation) confirmations.set(token, (confirmation = authApi.verify(token)));
    let current = true;
    confirmation.then(
      () => current && setState('verified'),
      (failure: unknown) => current && setState({ error: describeAuthError(failure) }),
    );
    return () => {
      current = false;
    };
  }, [token]);

  return (
    <Stack>
      <Title order={1} size="h3">
        Verify your email
      </Title>
      {state === 'verifying' && <PageLoader label="Verifying your email" />}
      {state === 'verified' && (
        <>
          <Alert color="green" variant="light" role="status" title="Your email is verified">
            Your developer account is active. Sign in to create your first app.
          </Alert>
          <Button component={Link} to="/sign-in">
            Sign in
          </Button>
        </>
      )}
      {typeof state === 'object' && (
        <>
          <Alert color="red" variant="light" role="alert" title="We could not verify your email">
            {state.error}
          </Alert>
          <Text size="sm">Sign in with your email and password to have a new link sent, or sign up again.</Text>
          <Button component={Link} to="/sign-in" variant="default">
            Go to sign in
          </Button>
        </>
      )}
    </Stack>
  );
}
