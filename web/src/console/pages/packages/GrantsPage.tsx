/**
 * Granting and revoking packages per app (/packages/grants?app=<key>): pick an app by its key, name or
 * developer (apps(search)), see the packages it holds, grant another or revoke one, each with a reason.
 * The app's tokens gain or lose the scopes within seconds.
 */
import { Badge, Button, Card, Group, Select, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { EmptyState, ErrorAlert, formatDateTime, PageHeader, QueryState, useMutation, useOperation } from '../../../lib';
import { ReasonDialog } from '../../components/ReasonDialog';
import { TierBadge } from './badges';
import { APP_GRANTS, GRANT_PACKAGE, PACKAGES, REVOKE_PACKAGE, type AppWithGrants, type PermissionPackage } from './operations';

/** A searchable picker of apps: asks apps(search) as the operator types. */
export function AppPicker({ value, onChange, label = 'App' }: { value: string | null; onChange: (key: string | null) => void; label?: string }) {
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 250);
  const found = useOperation(APP_GRANTS, { search: debounced.trim() || null });
  const options = (found.data?.apps.nodes ?? []).map((app) => ({ value: app.key, label: `${app.name} (${app.key}) · ${app.developer.name}` }));
  // Keep the chosen app among the options while a search for something else runs.
  if (value && !options.some((option) => option.value === value)) options.unshift({ value, label: value });
  return (
    <Select
      label={label}
      placeholder="Search by key, name or developer"
      searchable
      clearable
      filter={({ options: all }) => all}
      searchValue={search}
      onSearchChange={setSearch}
      data={options}
      value={value}
      onChange={onChange}
      nothingFoundMessage={found.loading ? 'Searching…' : 'No app matches'}
      error={found.error ? 'The apps could not be searched' : undefined}
      maw={560}
    />
  );
}

type Pending = { kind: 'grant'; pkg: PermissionPackage } | { kind: 'revoke'; pkg: { id: string; name: string } };

function AppGrants({ app, packages, onChanged }: { app: AppWithGrants; packages: PermissionPackage[]; onChanged: () => Promise<void> }) {
  const grant = useMutation(GRANT_PACKAGE);
  const revoke = useMutation(REVOKE_PACKAGE);
  const [packageId, setPackageId] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const active = app.grantedPackages.filter((g) => !g.revokedAt);
  const held = new Set(active.map((g) => g.package.id));
  const grantable = packages.filter((pkg) => !held.has(pkg.id));
  const chosen = grantable.find((pkg) => pkg.id === packageId);
  const action = pending?.kind === 'grant' ? grant : revoke;

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="app-grants-title">
      <Stack>
        <Group justify="space-between" align="flex-start">
          <Stack gap={2}>
            <Title order={2} size="h4" id="app-grants-title">
              {app.name}
            </Title>
            <Text size="sm" c="dimmed">
              <Text span ff="monospace" size="sm">
                {app.key}
              </Text>{' '}
              · {app.developer.name}
            </Text>
          </Stack>
          <Group gap="xs">
            <Badge variant="light" color={app.status === 'SUSPENDED' ? 'red' : app.status === 'LIVE' ? 'green' : 'yellow'}>
              {app.status.toLowerCase()}
            </Badge>
            <Button component={Link} to={`/apps/${encodeURIComponent(app.key)}`} size="xs" variant="subtle">
              Open the app
            </Button>
            <Button component={Link} to={`/audit?${new URLSearchParams({ targetType: 'app', targetId: app.key })}`} size="xs" variant="subtle">
              Its audit log
            </Button>
          </Group>
        </Group>

        {active.length === 0 ? (
          <EmptyState title="No packages held">This app holds no package: its tokens carry no scope.</EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={600}>
            <Table striped aria-label={`Packages ${app.name} holds`}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Package</Table.Th>
                  <Table.Th>Granted</Table.Th>
                  <Table.Th>Reason</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {active.map((g) => (
                  <Table.Tr key={g.id} data-testid="granted-package">
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <Text size="sm">{g.package.name}</Text>
                        <TierBadge tier={g.package.tier} />
                      </Group>
                    </Table.Td>
                    <Table.Td>{formatDateTime(g.grantedAt)}</Table.Td>
                    <Table.Td>{g.reason}</Table.Td>
                    <Table.Td>
                      <Button size="xs" variant="subtle" color="red" onClick={() => setPending({ kind: 'revoke', pkg: g.package })} aria-label={`Revoke ${g.package.name}`}>
                        Revoke
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}

        <Group align="flex-end">
          <Select
            label="Package to grant"
            placeholder={grantable.length ? 'Choose a package' : 'It holds every package'}
            data={grantable.map((pkg) => ({ value: pkg.id, label: `${pkg.name} (${pkg.tier === 'PAID' ? 'paid' : 'free'})` }))}
            value={packageId}
            onChange={setPackageId}
            disabled={!grantable.length}
            w={320}
          />
          <Button disabled={!chosen} onClick={() => chosen && setPending({ kind: 'grant', pkg: chosen })}>
            Grant
          </Button>
        </Group>
      </Stack>

      <ReasonDialog
        opened={!!pending}
        title={pending ? (pending.kind === 'grant' ? `Grant ${pending.pkg.name} to ${app.name}` : `Revoke ${pending.pkg.name} from ${app.name}`) : ''}
        description={
          pending?.kind === 'grant'
            ? 'The app may use the package’s scopes within seconds; its developer sees the grant and your reason.'
            : 'Calls relying on the package fail within seconds, before the app’s tokens expire.'
        }
        {...(pending?.kind === 'revoke' ? { confirmColor: 'red.9' } : {})}
        reasonHint="Recorded with the grant and in the audit log."
        error={action.error}
        onClose={() => {
          setPending(null);
          grant.reset();
          revoke.reset();
        }}
        onConfirm={async (reason) => {
          if (!pending) return false;
          const input = { appKey: app.key, packageId: pending.pkg.id, reason };
          const done = pending.kind === 'grant' ? await grant.run({ input }) : await revoke.run({ input });
          if (!done) return false;
          setPackageId(null);
          await onChanged();
          return true;
        }}
      />
    </Card>
  );
}

export default function GrantsPage() {
  const [params, setParams] = useSearchParams();
  const appKey = params.get('app');
  const packages = useOperation(PACKAGES);
  const chosen = useOperation(APP_GRANTS, { search: appKey }, { skip: !appKey });
  const app = chosen.data?.apps.nodes.find((a) => a.key === appKey);
  return (
    <>
      <PageHeader title="Package grants" description="Grant a package to an app, or take one back. Each change is in the audit log with your reason." />
      <Stack>
        <AppPicker value={appKey} onChange={(key) => setParams(key ? { app: key } : {}, { replace: true })} />
        <ErrorAlert error={packages.error} title="The packages could not be read" onRetry={() => void packages.refetch()} />
        {appKey && (
          <QueryState state={{ ...chosen, data: chosen.data && packages.data ? { app, packages: packages.data.permissionPackages } : undefined }} loadingLabel="Loading the app's packages">
            {(data) =>
              data.app ? (
                <AppGrants app={data.app} packages={data.packages} onChanged={chosen.refetch} />
              ) : (
                <EmptyState title="App not found">No app has the key {appKey}.</EmptyState>
              )
            }
          </QueryState>
        )}
      </Stack>
    </>
  );
}
