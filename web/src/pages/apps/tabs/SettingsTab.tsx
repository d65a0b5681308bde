/** The app's settings: details and redirect URIs, IP allow list, signing key, and rotating its secret. */
import { Alert, Button, Code, Group, NumberInput, Stack, TagsInput, Text, Textarea, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ErrorAlert, formatDateTime, QueryState, SecretOnce, useMutation, useOperation } from '../../../lib';
import { useAppTab, useTabTitle } from '../app-context';
import { APP_SETTINGS, REGISTER_SIGNING_KEY, ROTATE_SECRET, SET_IP_ALLOW_LIST, UPDATE_APP, type AppSettings } from '../operations';
import { Section } from '../section';

function Saved({ when }: { when: boolean }) {
  return when ? (
    <Text size="sm" c="teal.9" role="status">
      Saved.
    </Text>
  ) : null;
}

function DetailsForm({ app, onSaved }: { app: AppSettings; onSaved: () => void }) {
  const update = useMutation(UPDATE_APP);
  const [name, setName] = useState(app.name);
  const [description, setDescription] = useState(app.description);
  const [redirectUris, setRedirectUris] = useState(app.redirectUris);
  return (
    <Section title="Details and redirect URIs" description="Merchants see the name and description when they authorize the app.">
      <form
        aria-label="App details"
        onSubmit={async (event) => {
          event.preventDefault();
          if (await update.run({ input: { appKey: app.key, name: name.trim(), description, redirectUris } })) onSaved();
        }}
      >
        <Stack>
          <TextInput label="Name" required maxLength={100} value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <Textarea label="Description" autosize minRows={2} maxLength={2000} value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          <TagsInput label="Redirect URIs" description="https, or http on localhost; matched exactly. Press Enter after each." value={redirectUris} onChange={setRedirectUris} clearable />
          <ErrorAlert error={update.error} title="Not saved" />
          <Group>
            <Button type="submit" loading={update.loading}>
              Save details
            </Button>
            <Saved when={!!update.data && !update.loading} />
          </Group>
        </Stack>
      </form>
    </Section>
  );
}

function IpAllowListForm({ app, onSaved }: { app: AppSettings; onSaved: () => void }) {
  const save = useMutation(SET_IP_ALLOW_LIST);
  const [entries, setEntries] = useState(app.ipAllowList);
  return (
    <Section title="IP allow list" description="The gateway refuses the app's calls from anywhere else (IP_NOT_ALLOWED). Empty allows any address.">
      <form
        aria-label="IP allow list"
        onSubmit={async (event) => {
          event.preventDefault();
          const saved = await save.run({ input: { appKey: app.key, entries } });
          if (saved) {
            setEntries(saved.setIpAllowList.ipAllowList);
            onSaved();
          }
        }}
      >
        <Stack>
          <TagsInput label="Addresses and CIDR ranges" placeholder="203.0.113.0/24" value={entries} onChange={setEntries} clearable />
          <ErrorAlert error={save.error} title="Not saved" />
          <Group>
            <Button type="submit" loading={save.loading}>
              Save the allow list
            </Button>
            <Saved when={!!save.data && !save.loading} />
          </Group>
        </Stack>
      </form>
    </Section>
  );
}

function SigningKeyForm({ app, onSaved }: { app: AppSettings; onSaved: () => void }) {
  const register = useMutation(REGISTER_SIGNING_KEY);
  const [publicKey, setPublicKey] = useState('');
  return (
    <Section title="Signing key" description="An Ed25519 public key for RFC 9421 request signatures (ed25519). hmac-sha256 signatures use the app secret.">
      <Stack>
        <Text size="sm">
          Registered key: {app.signingPublicKey ? <Code>{app.signingPublicKey}</Code> : <Text span c="dimmed">none</Text>}
        </Text>
        <Text size="sm">
          Unsigned calls are {app.signatureRequired ? 'refused' : 'accepted'}; hmac signatures are {app.hmacSigning ? 'available' : 'unavailable until the secret is rotated'}.
        </Text>
        <form
          aria-label="Signing key"
          onSubmit={async (event) => {
            event.preventDefault();
            if (await register.run({ appKey: app.key, publicKey: publicKey.trim() })) {
              setPublicKey('');
              onSaved();
            }
          }}
        >
          <Stack>
            <Textarea
              label={app.signingPublicKey ? 'Replace it with' : 'Public key'}
              description="Raw 32 bytes in base64url, a JWK or a PEM public key."
              autosize
              minRows={2}
              value={publicKey}
              onChange={(e) => setPublicKey(e.currentTarget.value)}
              styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
            />
            <ErrorAlert error={register.error} title="Not registered" />
            <Group>
              <Button type="submit" loading={register.loading} disabled={!publicKey.trim()}>
                Register the key
              </Button>
              <Saved when={!!register.data && !register.loading} />
            </Group>
          </Stack>
        </form>
      </Stack>
    </Section>
  );
}

function RotateSecret({ app }: { app: AppSettings }) {
  const rotate = useMutation(ROTATE_SECRET);
  const [graceHours, setGraceHours] = useState<number>(1);
  const [confirming, setConfirming] = useState(false);
  const rotated = rotate.data?.rotateAppSecret;
  useEffect(() => setConfirming(false), [rotated]);
  return (
    <Section title="App secret" description="Rotate it when it may have leaked, or on a schedule. The old one keeps working for the grace period you choose (0 to 24 hours).">
      <Stack>
        {rotated && (
          <SecretOnce secret={rotated.secret} title="The new secret: copy it now">
            <Text size="sm">The previous secret {rotated.previousSecretExpiresAt ? `works until ${formatDateTime(rotated.previousSecretExpiresAt)}` : 'stopped working now'}.</Text>
          </SecretOnce>
        )}
        <NumberInput label="Grace period (hours)" min={0} max={24} clampBehavior="strict" allowDecimal={false} value={graceHours} onChange={(value) => setGraceHours(typeof value === 'number' ? value : 0)} maw={240} />
        <ErrorAlert error={rotate.error} title="Not rotated" />
        {confirming ? (
          <Alert color="orange" variant="light" title="Rotate the secret?" role="alertdialog" aria-label="Confirm the rotation">
            <Stack gap="xs" align="flex-start">
              <Text size="sm">Deployments using the current secret must switch to the new one within {graceHours} hour(s).</Text>
              <Group>
                <Button color="orange" loading={rotate.loading} onClick={() => void rotate.run({ appKey: app.key, graceHours })}>
                  Yes, rotate it
                </Button>
                <Button variant="default" onClick={() => setConfirming(false)}>
                  Keep the current one
                </Button>
              </Group>
            </Stack>
          </Alert>
        ) : (
          <Group>
            <Button variant="default" onClick={() => setConfirming(true)}>
              Rotate the secret
            </Button>
          </Group>
        )}
      </Stack>
    </Section>
  );
}

export default function SettingsTab() {
  useTabTitle('Settings');
  const { app: header, refreshApp } = useAppTab();
  const settings = useOperation(APP_SETTINGS, { key: header.key });
  const saved = () => {
    void settings.refetch();
    void refreshApp();
  };
  return (
    <QueryState state={{ ...settings, data: settings.data?.developerApp ?? undefined }} loadingLabel="Loading the settings">
      {(app) => (
        <Stack maw={760}>
          <DetailsForm app={app} onSaved={saved} />
          <IpAllowListForm app={app} onSaved={saved} />
          <SigningKeyForm app={app} onSaved={saved} />
          <RotateSecret app={app} />
          <Text size="xs" c="dimmed">
            Created {formatDateTime(app.createdAt)}.
          </Text>
        </Stack>
      )}
    </QueryState>
  );
}
