/**
 * The app's sandbox: its test merchant and state, resetting its data, a sandbox access token for a
 * first call (shown here only, never stored), and the OAuth authorize URL for real merchants.
 */
import { Alert, Button, Code, Group, List, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { CopyableCode, ErrorAlert, formatDateTime, QueryState, useMutation, useOperation } from '../../../lib';
import { useAppTab, useTabTitle } from '../app-context';
import { SandboxBadge } from '../badges';
import { APP_SANDBOX, ISSUE_SANDBOX_TOKEN, RESET_SANDBOX } from '../operations';
import { Section } from '../section';

export default function SandboxTab() {
  useTabTitle('Sandbox');
  const { app: header } = useAppTab();
  const sandbox = useOperation(APP_SANDBOX, { key: header.key });
  const reset = useMutation(RESET_SANDBOX);
  const issue = useMutation(ISSUE_SANDBOX_TOKEN);
  const token = issue.data?.issueSandboxToken;

  return (
    <QueryState state={{ ...sandbox, data: sandbox.data?.developerApp ?? undefined }} loadingLabel="Loading the sandbox">
      {(app) => (
        <Stack maw={900}>
          <Section title="Sandbox merchant" description="A test merchant of the app's own, with generated products (with SKUs), orders in every status and buyers, authorized for the app with every scope it holds.">
            <Group gap="xs">
              <Text>{app.sandbox.merchantName ?? 'No merchant yet'}</Text>
              <SandboxBadge state={app.sandbox.state} />
            </Group>
            {app.sandbox.merchantId && (
              <Text size="sm">
                Merchant id <Code>{app.sandbox.merchantId}</Code>
              </Text>
            )}
            <Text size="sm" c="dimmed">
              Data generated {formatDateTime(app.sandbox.resetAt)}.
            </Text>
            {app.sandbox.error && (
              <Alert color="red" variant="light" role="alert" title="Provisioning failed">
                {app.sandbox.error}
              </Alert>
            )}
            <ErrorAlert error={reset.error} title="Not reset" />
            <Group>
              <Button
                variant="default"
                loading={reset.loading}
                onClick={async () => {
                  if (await reset.run({ appKey: app.key })) await sandbox.refetch();
                }}
              >
                {app.sandbox.state === 'READY' ? 'Reset the sandbox data' : 'Provision the sandbox'}
              </Button>
              {reset.data && !reset.loading && (
                <Text size="sm" c="teal.9" role="status">
                  The sandbox data was generated again.
                </Text>
              )}
            </Group>
          </Section>

          <Section title="Sandbox access token" description="An access token of the app for its sandbox merchant, with every scope the app holds, valid one hour. Use it in the explorer or with curl.">
            <ErrorAlert error={issue.error} title="No token issued" />
            {token && (
              <Stack gap="xs">
                <CopyableCode value={token.accessToken} label="the sandbox token" testId="sandbox-token" />
                <Text size="sm" c="dimmed">
                  Valid until {formatDateTime(token.expiresAt)}; scopes: {token.scopes.join(', ') || 'none'}.
                </Text>
                <Text size="sm">Try it:</Text>
                <CopyableCode
                  label="the curl command"
                  value={`curl -s ${window.location.origin}/graphql -H "authorization: Bearer ${token.accessToken}" -H 'content-type: application/json' -d '{"query":"{ orders(first: 3) { nodes { number status } } }"}'`}
                />
              </Stack>
            )}
            <Group>
              <Button loading={issue.loading} disabled={app.sandbox.state !== 'READY'} onClick={() => void issue.run({ appKey: app.key })}>
                Get a sandbox token
              </Button>
              <Button variant="default" component={Link} to={`/apps/${encodeURIComponent(app.key)}/explorer`}>
                Open the API explorer
              </Button>
            </Group>
          </Section>

          <Section title="Real merchants" description="A merchant authorizes the app at this URL (authorization code with PKCE). Replace the code_challenge and state placeholders.">
            {app.authorizeUrl ? (
              <CopyableCode value={app.authorizeUrl} label="the authorize URL" testId="authorize-url" />
            ) : (
              <Text size="sm" c="dimmed">
                Add a redirect URI in the settings to get the authorize URL.
              </Text>
            )}
            {app.status === 'SANDBOX' && <Text size="sm">While the app is in the sandbox, only test merchants can authorize it.</Text>}
            <Text size="sm">Scopes the app holds now:</Text>
            {app.grantedScopes.length ? (
              <List size="sm" aria-label="Scopes the app holds">
                {app.grantedScopes.map((scope) => (
                  <List.Item key={scope}>
                    <Code>{scope}</Code>
                  </List.Item>
                ))}
              </List>
            ) : (
              <Text size="sm" c="dimmed">
                None: request a permission package.
              </Text>
            )}
          </Section>
        </Stack>
      )}
    </QueryState>
  );
}
