/** The reset link's page: a new password for the one-time token in ?token= (every session then ends). */
import { Alert, Anchor, Button, PasswordInput, Stack, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { authApi, describeAuthError, useDocumentTitle } from '../../lib';
import { FormError, MIN_PASSWORD_LENGTH, passwordProblem } from './form';

export default function ResetPasswordPage() {
  useDocumentTitle('Choose a new password');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [touched, setTouched] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(token ? null : 'This link has no token: open the link from the email as it is.');
  const [submitting, setSubmitting] = useState(false);
  const problems = { password: passwordProblem(password), confirmation: confirmation === password ? null : 'The two passwords differ.' };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (!token || problems.password || problems.confirmation) return;
    setSubmitting(true);
    setError(null);
    try {
      await authApi.resetPassword(token, password);
      setDone(true);
    } catch (failure) {
      setError(describeAuthError(failure));
    } finally {
      setSubmitting(false);
    }
  };

  if (done)
    return (
      <Stack>
        <Title order={1} size="h3">
          Password changed
        </Title>
        <Alert color="green" variant="light" role="status">
          Your new password is set, and every session of your account has ended. Sign in with the new password.
        </Alert>
        <Button component={Link} to="/sign-in">
          Sign in
        </Button>
      </Stack>
    );

  return (
    <form onSubmit={submit} noValidate aria-labelledby="reset-title">
      <Stack>
        <Title order={1} size="h3" id="reset-title">
          Choose a new password
        </Title>
        <PasswordInput
          label="New password"
          description={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={touched && problems.password}
        />
        <PasswordInput label="Repeat the new password" autoComplete="new-password" required value={confirmation} onChange={(e) => setConfirmation(e.currentTarget.value)} error={touched && problems.confirmation} />
        <FormError message={error} />
        <Button type="submit" loading={submitting} disabled={!token} fullWidth>
          Set the new password
        </Button>
        <Anchor component={Link} to="/forgot-password" size="sm" ta="center">
          Ask for a new link
        </Anchor>
      </Stack>
    </form>
  );
}
