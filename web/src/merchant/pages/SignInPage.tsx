/** Merchant staff sign in with the email and password of the passport's staff sign-in; back to where they were going (?next=). */
import { Alert, Button, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { useDocumentTitle } from '../../lib/layout';
import { describeSignInError, merchantAuth } from '../auth-api';
import { useStaffSession } from '../session';

/** Only a path of the merchant page itself: never a redirect to another site. */
const safeNext = (next: string | null) => (next && next.startsWith('/') && !next.startsWith('//') ? next : '/');

export default function SignInPage() {
  useDocumentTitle('Sign in');
  const { session, setSession } = useStaffSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  if (session) return <Navigate to={next} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim() || !password) {
      setError('Enter your email and password.');
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      setSession(await merchantAuth.signIn(email.trim(), password));
      navigate(next, { replace: true });
    } catch (failure) {
      setError(describeSignInError(failure));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate aria-labelledby="sign-in-title">
      <Stack>
        <Title order={1} size="h3" id="sign-in-title">
          Sign in to manage your shop&apos;s apps
        </Title>
        <Text size="sm" c="dimmed">
          Use the staff email and password you sign in with when you authorize an app.
        </Text>
        <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
        <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
        {error && (
          <Alert color="red" variant="light" role="alert">
            {error}
          </Alert>
        )}
        <Button type="submit" loading={submitting} fullWidth>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}
