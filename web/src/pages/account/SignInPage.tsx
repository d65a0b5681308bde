/** Sign in with email and password; back to the page the developer was going to (?next=). */
import { Anchor, Button, Group, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { AuthError, authApi, describeAuthError, useDocumentTitle, useSession } from '../../lib';
import { FormError } from './form';

/** Only a path of the portal itself: never a redirect to another site. */
const safeNext = (next: string | null) => (next && next.startsWith('/') && !next.startsWith('//') ? next : '/apps');

export default function SignInPage() {
  useDocumentTitle('Sign in');
  const { session, signIn } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [unverified, setUnverified] = useState(false);
  const [resent, setResent] = useState(false);
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
    setUnverified(false);
    try {
      await signIn(email.trim(), password);
      navigate(next, { replace: true });
    } catch (failure) {
      setUnverified(failure instanceof AuthError && failure.code === 'email_not_verified');
      setError(describeAuthError(failure));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate aria-labelledby="sign-in-title">
      <Stack>
        <Title order={1} size="h3" id="sign-in-title">
          Sign in to the developer portal
        </Title>
        <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
        <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
        <FormError message={error} />
        {unverified && (
          <Button
            variant="default"
            disabled={resent}
            onClick={async () => {
              await authApi.resendVerification(email.trim()).catch(() => undefined);
              setResent(true);
            }}
          >
            {resent ? 'Verification link sent' : 'Send the verification link again'}
          </Button>
        )}
        <Button type="submit" loading={submitting} fullWidth>
          Sign in
        </Button>
        <Group justify="space-between">
          <Anchor component={Link} to="/forgot-password" size="sm">
            Forgot your password?
          </Anchor>
          <Text size="sm">
            New here?{' '}
            <Anchor component={Link} to="/sign-up">
              Create an account
            </Anchor>
          </Text>
        </Group>
      </Stack>
    </form>
  );
}
