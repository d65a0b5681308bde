/**
 * Creates an app (it starts in SANDBOX with a sandbox merchant of its own) and shows its secret once,
 * with a copy button; leaving the page forgets it.
 */
import { Alert, Button, Checkbox, Group, Stack, TagsInput, Text, Textarea, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { CopyableCode, ErrorAlert, PageHeader, SecretOnce, useMutation } from '../../lib';
import { SandboxBadge } from './badges';
import { CREATE_APP } from './operations';

export default function CreateAppPage() {
  const navigate = useNavigate();
  const create = useMutation(CREATE_APP);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [redirectUris, setRedirectUris] = useState<string[]>([]);
  const [ipAllowList, setIpAllowList] = useState<string[]>([]);
  const [signingPublicKey, setSigningPublicKey] = useState('');
  const [touched, setTouched] = useState(false);
  const [stored, setStored] = useState(false);
  const nameProblem = name.trim() ? null : 'The app needs a name.';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (nameProblem) return;
    await create.run({
      input: {
        name: name.trim(),
        ...(description.trim() ? { description: description.trim() } : {}),
        ...(redirectUris.length ? { redirectUris } : {}),
        ...(ipAllowList.length ? { ipAllowList } : {}),
        ...(signingPublicKey.trim() ? { signingPublicKey: signingPublicKey.trim() } : {}),
      },
    });
  };

  const created = create.data?.createApp;
  if (created)
    return (
      <>
        <PageHeader title={`${created.app.name} is created`} description="It starts in the sandbox: it can act for its own test merchant until the platform reviews and releases it." />
        <Stack maw={720}>
          <div>
            <Text fw={600} mb={4}>
              App key (the OAuth client_id)
            </Text>
            <CopyableCode value={created.app.key} label="the app key" testId="app-key" />
          </div>
          <SecretOnce secret={created.secret} title="The app secret: copy it now">
            <Checkbox label="I have stored the secret somewhere safe" checked={stored} onChange={(e) => setStored(e.currentTarget.checked)} />
          </SecretOnce>
          <Group gap="xs">
            <Text size="sm">Sandbox merchant {created.app.sandbox.merchantName ? <strong>{created.app.sandbox.merchantName}</strong> : null}</Text>
            <SandboxBadge state={created.app.sandbox.state} />
          </Group>
          <Group>
            <Button disabled={!stored} onClick={() => navigate(`/apps/${encodeURIComponent(created.app.key)}/sandbox`)}>
              Go to the app's sandbox
            </Button>
            <Button variant="default" disabled={!stored} onClick={() => navigate(`/apps/${encodeURIComponent(created.app.key)}/explorer`)}>
              Open the API explorer
            </Button>
          </Group>
        </Stack>
      </>
    );

  return (
    <>
      <PageHeader title="Create an app" description="Everything but the name can be changed later." />
      <form onSubmit={submit} noValidate aria-label="Create an app">
        <Stack maw={640}>
          <TextInput label="Name" required maxLength={100} value={name} onChange={(e) => setName(e.currentTarget.value)} error={touched && nameProblem} />
          <Textarea label="Description" description="What the app does, for merchants and reviewers." autosize minRows={3} maxLength={2000} value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          <TagsInput
            label="Redirect URIs"
            description="Where the platform sends a merchant back after consent (https, or http on localhost). Press Enter after each."
            placeholder="https://example.com/oauth/callback"
            value={redirectUris}
            onChange={setRedirectUris}
            clearable
          />
          <TagsInput
            label="IP allow list"
            description="Addresses or CIDR ranges the app calls from; empty allows any. Press Enter after each."
            placeholder="203.0.113.0/24"
            value={ipAllowList}
            onChange={setIpAllowList}
            clearable
          />
          <Textarea
            label="Signing public key (optional)"
            description="An Ed25519 public key (base64url, JWK or PEM) for signed requests."
            autosize
            minRows={2}
            value={signingPublicKey}
            onChange={(e) => setSigningPublicKey(e.currentTarget.value)}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          />
          <ErrorAlert error={create.error} title="The app was not created" />
          {create.loading && (
            <Alert variant="light" role="status">
              Creating the app and generating its sandbox (products, orders and buyers)…
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={create.loading}>
              Create the app
            </Button>
            <Button variant="default" component={Link} to="/apps">
              Cancel
            </Button>
          </Group>
        </Stack>
      </form>
    </>
  );
}
