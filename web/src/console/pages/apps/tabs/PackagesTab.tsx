/**
 * An app's permission packages: those it holds (Revoke <package>: calls relying on it fail within
 * seconds), granting another (Grant package), the scopes they add up to, what it held before and its
 * requests. Deciding requests is the package requests page's work.
 */
import { Anchor, Badge, Button, Group, Select, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { formatDateTime } from '../../../../lib/format';
import { EmptyState, QueryState } from '../../../../lib/layout';
import { useMutation, useOperation } from '../../../../lib/use-operation';
import { DecisionBadge } from '../../../components/badges';
import { ReasonDialog } from '../../../components/ReasonDialog';
import { APP_PACKAGES, GRANT_PACKAGE, REVOKE_PACKAGE, type AppPackages, type PackageGrant, type PermissionPackage } from '../../../operations';
import { useAppTab } from '../AppPage';

function PackagesView({ app, catalog, refetch }: { app: AppPackages; catalog: PermissionPackage[]; refetch: () => Promise<void> }) {
  const grant = useMutation(GRANT_PACKAGE);
  const revoke = useMutation(REVOKE_PACKAGE);
  const [chosen, setChosen] = useState<string | null>(null);
  const [dialog, setDialog] = useState<{ kind: 'grant'; pkg: PermissionPackage } | { kind: 'revoke'; grant: PackageGrant } | null>(null);
  const held = app.grantedPackages.filter((g) => !g.revokedAt);
  const before = app.grantedPackages.filter((g) => g.revokedAt);
  const heldIds = new Set(held.map((g) => g.package.id));
  const grantable = catalog.filter((p) => !heldIds.has(p.id));

  return (
    <Stack gap="xl">
      <section aria-labelledby="packages-held">
        <Title order={2} size="h4" id="packages-held" mb="sm">
          Packages it holds
        </Title>
        {held.length === 0 ? (
          <EmptyState title="It holds no package">Without a package its tokens carry no scope.</EmptyState>
        ) : (
          <Table striped>
            <Table.Caption>Permission packages granted to the app</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Package</Table.Th>
                <Table.Th>Tier</Table.Th>
                <Table.Th>Granted</Table.Th>
                <Table.Th>Why</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {held.map((g) => (
                <Table.Tr key={g.id}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {g.package.name}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {g.package.description}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="outline">{g.package.tier}</Badge>
                  </Table.Td>
                  <Table.Td>{formatDateTime(g.grantedAt)}</Table.Td>
                  <Table.Td>{g.reason}</Table.Td>
                  <Table.Td>
                    <Button
                      size="xs"
                      color="red"
                      variant="light"
                      onClick={() => {
                        revoke.reset();
                        setDialog({ kind: 'revoke', grant: g });
                      }}
                    >
                      Revoke {g.package.name}
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <Text size="sm" mt="sm" component="div">
          Scopes its tokens can use:{' '}
          {app.grantedScopes.length ? (
            <Group gap={4} component="span" style={{ display: 'inline-flex' }}>
              {app.grantedScopes.map((scope) => (
                <Badge key={scope} variant="light" size="sm" tt="none">
                  {scope}
                </Badge>
              ))}
            </Group>
          ) : (
            'none'
          )}
        </Text>
      </section>

      <section aria-labelledby="packages-grant">
        <Title order={2} size="h4" id="packages-grant" mb="sm">
          Grant a package
        </Title>
        <Group align="flex-end">
          <Select
            label="Package"
            placeholder={grantable.length ? 'Choose a package' : 'It holds every package'}
            data={grantable.map((p) => ({ value: p.id, label: `${p.name} (${p.tier})` }))}
            value={chosen}
            onChange={setChosen}
            searchable
            w={320}
            disabled={!grantable.length}
          />
          <Button
            disabled={!chosen}
            onClick={() => {
              const pkg = grantable.find((p) => p.id === chosen);
              if (!pkg) return;
              grant.reset();
              setDialog({ kind: 'grant', pkg });
            }}
          >
            Grant package
          </Button>
        </Group>
      </section>

      <section aria-labelledby="packages-requests">
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4" id="packages-requests">
            Its requests
          </Title>
          <Anchor component={Link} to="/packages/requests" size="sm">
            Decide requests in the package requests queue
          </Anchor>
        </Group>
        {app.packageRequests.length === 0 ? (
          <EmptyState title="No package requests" />
        ) : (
          <Table striped>
            <Table.Caption>The app's package requests, newest first</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Package</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Asked</Table.Th>
                <Table.Th>Message</Table.Th>
                <Table.Th>Decision</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {app.packageRequests.map((request) => (
                <Table.Tr key={request.id}>
                  <Table.Td>{request.package.name}</Table.Td>
                  <Table.Td>
                    <DecisionBadge status={request.status} />
                  </Table.Td>
                  <Table.Td>{formatDateTime(request.createdAt)}</Table.Td>
                  <Table.Td>{request.message ?? '—'}</Table.Td>
                  <Table.Td>{request.decisionReason ?? '—'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </section>

      {before.length > 0 && (
        <section aria-labelledby="packages-before">
          <Title order={2} size="h4" id="packages-before" mb="sm">
            Revoked grants
          </Title>
          <Table striped>
            <Table.Caption>Packages the app held before</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Package</Table.Th>
                <Table.Th>Granted</Table.Th>
                <Table.Th>Revoked</Table.Th>
                <Table.Th>Why</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {before.map((g) => (
                <Table.Tr key={g.id}>
                  <Table.Td>{g.package.name}</Table.Td>
                  <Table.Td>{formatDateTime(g.grantedAt)}</Table.Td>
                  <Table.Td>{formatDateTime(g.revokedAt)}</Table.Td>
                  <Table.Td>{g.revokeReason ?? '—'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </section>
      )}

      {dialog?.kind === 'grant' && (
        <ReasonDialog
          opened
          title={`Grant ${dialog.pkg.name}`}
          description={`The app may use the package's scopes at once (${dialog.pkg.tier} tier).`}
          error={grant.error}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const done = await grant.run({ input: { appKey: app.key, packageId: dialog.pkg.id, reason } });
            if (done) {
              setChosen(null);
              await refetch();
            }
            return Boolean(done);
          }}
        />
      )}
      {dialog?.kind === 'revoke' && (
        <ReasonDialog
          opened
          title={`Revoke ${dialog.grant.package.name}`}
          description="Calls relying on the package fail within seconds, before the app's tokens expire."
          confirmColor="red.9"
          error={revoke.error}
          onClose={() => setDialog(null)}
          onConfirm={async (reason) => {
            const done = await revoke.run({ input: { appKey: app.key, packageId: dialog.grant.package.id, reason } });
            if (done) await refetch();
            return Boolean(done);
          }}
        />
      )}
    </Stack>
  );
}

export default function PackagesTab() {
  const { app } = useAppTab();
  const state = useOperation(APP_PACKAGES, { key: app.key });
  return (
    <QueryState state={state} loadingLabel="Loading the packages" isEmpty={(data) => !data.app} empty={<EmptyState title="No such app" />}>
      {(data) => <PackagesView app={data.app!} catalog={data.permissionPackages} refetch={state.refetch} />}
    </QueryState>
  );
}
