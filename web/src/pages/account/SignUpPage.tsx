/** Sign up: an individual or a company (with its name); a verification email follows. */
import { Anchor, Button, PasswordInput, Radio, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { authApi, describeAuthError, useDocumentTitle, type DeveloperKind } from '../../lib';
import { FormError, MIN_PASSWORD_LENGTH, passwordProblem } from './form';

export default function SignUpPage() {
  useDocumentTitle('Sign up');
  const navigate = useNavigate();
  const [kind, setKind] = useState<DeveloperKind>('INDIVIDUAL');
  const [name, setName] = useState('');
  const [companyName, setCompanyName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const problems = {
    name: name.trim() ? null : 'Your name is required.',
    companyName: kind === 'COMPANY' && !companyName.trim() ? "The company's name is required." : null,
    email: /^[^\s@]+@[^\s@]+$/.test(email.trim()) ? null : 'A valid email address is required.',
    password: passwordProblem(password),
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (Object.values(problems).some(Boolean)) return;
    setSubmitting(true);
    setError(null);
    try {
      await authApi.signUp({ email: email.trim(), password, name: name.trim(), kind, ...(kind === 'COMPANY' ? { companyName: companyName.trim() } : {}) });
      navigate(`/sign-up/check-email?email=${encodeURIComponent(email.trim())}`);
    } catch (failure) {
      setError(describeAuthError(failure));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate aria-labelledby="sign-up-title">
      <Stack>
        <div>
          <Title order={1} size="h3" id="sign-up-title">
            Create your developer account
          </Title>
          <Text c="dimmed" size="sm">
            Build apps on the marketplace's API: a sandbox of your own from the first minute.
          </Text>
        </div>
        <Radio.Group label="You sign up as" value={kind} onChange={(value) => setKind(value as DeveloperKind)} withAsterisk>
          <Stack gap="xs" mt="xs">
            <Radio value="INDIVIDUAL" label="An individual developer" />
            <Radio value="COMPANY" label="A company" />
          </Stack>
        </Radio.Group>
        <TextInput label="Your name" autoComplete="name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={touched && problems.name} />
        {kind === 'COMPANY' && (
          <TextInput
            label="Company name"
            autoComplete="organization"
            required
            value={companyName}
            onChange={(e) => setCompanyName(e.currentTarget.value)}
            error={touched && problems.companyName}
          />
        )}
        <TextInput label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={touched && problems.email} />
        <PasswordInput
          label="Password"
          description={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={touched && problems.password}
        />
        <FormError message={error} />
        <Button type="submit" loading={submitting} fullWidth>
          Sign up
        </Button>
        <Text size="sm" ta="center">
          Already have an account?{' '}
          <Anchor component={Link} to="/sign-in">
            Sign in
          </Anchor>
        </Text>
      </Stack>
    </form>
  );
}
