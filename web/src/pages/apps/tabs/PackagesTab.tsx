/**
 * Permission packages: the catalog with each package's tier and the scopes it holds, what the app
 * holds, requesting one (with a message for the operators) and the requests' outcome, withdrawing a
 * pending one.
 */
import { Badge, Button, Card, Code, Group, List, Modal, SimpleGrid, Stack, Table, Text, Textarea, Title, VisuallyHidden } from '@mantine/core';
import { useEffect, useState } from 'react';
import { EmptyState, ErrorAlert, formatDateTime, QueryState, useMutation, useOperation } from '../../../lib';
import { useAppTab, useTabTitle } from '../app-context';
import { OutcomeBadge } from '../badges';
import { APP_PACKAGES, REQUEST_PACKAGE, WITHDRAW_PACKAGE_REQUEST, type PermissionPackage } from '../operations';
import { Section } from '../section';

function RequestDialog({ appKey, pkg, onClose, onRequested }: { appKey: string; pkg: PermissionPackage | null; onClose: () => void; onRequested: () => void }) {
  const request = useMutation(REQUEST_PACKAGE);
  const [message, setMessage] = useState('');
  // The dialog keeps its name while it closes (its transition outlives `pkg`).
  const [named, setNamed] = useState(pkg);
  useEffect(() => {
    if (pkg) setNamed(pkg);
  }, [pkg]);
  return (
    <Modal opened={!!pkg} onClose={onClose} title={named ? `Request ${named.name}` : 'Request a package'} centered closeButtonProps={{ 'aria-label': 'Close' }}>
      {pkg && (
        <form
          aria-label={`Request ${pkg.name}`}
          onSubmit={async (event) => {
            event.preventDefault();
            if (await request.run({ input: { appKey, packageId: pkg.id, ...(message.trim() ? { message: message.trim() } : {}) } })) {
              setMessage('');
              onRequested();
            }
          }}
        >
          <Stack>
            <Text size="sm">Operators decide on the request; you see the outcome below.</Text>
            <Textarea label="Why the app needs it" autosize minRows={3} value={message} onChange={(e) => setMessage(e.currentTarget.value)} data-autofocus />
            <ErrorAlert error={request.error} title="Not requested" />
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" loading={request.loading}>
                Send the request
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

export default function PackagesTab() {
  useTabTitle('Permission packages');
  const { app: header } = useAppTab();
  const packages = useOperation(APP_PACKAGES, { key: header.key });
  const withdraw = useMutation(WITHDRAW_PACKAGE_REQUEST);
  const [requesting, setRequesting] = useState<PermissionPackage | null>(null);

  return (
    <QueryState state={{ ...packages, data: packages.data?.developerApp ? packages.data : undefined }} loadingLabel="Loading the packages">
      {({ permissionPackages, developerApp: app }) => {
        const held = new Set(app!.grantedPackages.filter((grant) => !grant.revokedAt).map((grant) => grant.package.id));
        const pending = new Set(app!.packageRequests.filter((request) => request.status === 'PENDING').map((request) => request.package.id));
        return (
          <Stack>
            <Section title="Catalog" description="An app may use the scopes of the packages it holds; a token carries what the merchant consented to of them.">
              {permissionPackages.length === 0 ? (
                <EmptyState title="No packages offered yet" />
              ) : (
                <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
                  {permissionPackages.map((pkg) => (
                    <Card key={pkg.id} withBorder padding="md" component="article" aria-labelledby={`package-${pkg.id}`} data-testid="package-card">
                      <Stack gap="xs">
                        <Group justify="space-between" wrap="nowrap">
                          <Title order={3} size="h5" id={`package-${pkg.id}`}>
                            {pkg.name}
                          </Title>
                          <Badge color={pkg.tier === 'PAID' ? 'grape' : 'teal'} variant="light" style={{ flexShrink: 0 }}>
                            {pkg.tier === 'PAID' ? 'Paid' : 'Free'}
                          </Badge>
                        </Group>
                        <Text size="sm">{pkg.description}</Text>
                        <List size="sm" spacing={2} aria-label={`Scopes of ${pkg.name}`}>
                          {pkg.scopes.map((scope) => (
                            <List.Item key={scope.name}>
                              {scope.description} <Code>{scope.name}</Code>
                            </List.Item>
                          ))}
                        </List>
                        {held.has(pkg.id) ? (
                          <Badge color="green" variant="outline">
                            Held by this app
                          </Badge>
                        ) : pending.has(pkg.id) ? (
                          <Badge color="blue" variant="outline">
                            Requested
                          </Badge>
                        ) : (
                          <Button size="xs" variant="default" onClick={() => setRequesting(pkg)} aria-label={`Request ${pkg.name}`}>
                            Request
                          </Button>
                        )}
                      </Stack>
                    </Card>
                  ))}
                </SimpleGrid>
              )}
            </Section>

            <Section title="Requests">
              <ErrorAlert error={withdraw.error} title="Not withdrawn" />
              {app!.packageRequests.length === 0 ? (
                <EmptyState title="No requests yet">Request a package from the catalog above.</EmptyState>
              ) : (
                <Table.ScrollContainer minWidth={640}>
                  <Table striped aria-label="Package requests">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Package</Table.Th>
                        <Table.Th>Requested</Table.Th>
                        <Table.Th>Status</Table.Th>
                        <Table.Th>Operators' reason</Table.Th>
                        <Table.Th>
                          <VisuallyHidden>Actions</VisuallyHidden>
                        </Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {app!.packageRequests.map((request) => (
                        <Table.Tr key={request.id} data-testid="package-request">
                          <Table.Td>{request.package.name}</Table.Td>
                          <Table.Td>{formatDateTime(request.createdAt)}</Table.Td>
                          <Table.Td>
                            <OutcomeBadge status={request.status} />
                          </Table.Td>
                          <Table.Td>{request.decisionReason ?? '—'}</Table.Td>
                          <Table.Td>
                            {request.status === 'PENDING' && (
                              <Button
                                size="xs"
                                variant="subtle"
                                color="red"
                                loading={withdraw.loading}
                                aria-label={`Withdraw the request for ${request.package.name}`}
                                onClick={async () => {
                                  if (await withdraw.run({ id: request.id })) await packages.refetch();
                                }}
                              >
                                Withdraw
                              </Button>
                            )}
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Section>

            <RequestDialog
              appKey={app!.key}
              pkg={requesting}
              onClose={() => setRequesting(null)}
              onRequested={() => {
                setRequesting(null);
                void packages.refetch();
              }}
            />
          </Stack>
        );
      }}
    </QueryState>
  );
}
