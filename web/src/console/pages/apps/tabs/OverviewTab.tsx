/** An app's overview: what it is, its developer, its settings, every change of its status and its reviews. */
import { Anchor, Badge, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { formatDateTime } from '../../../../lib/format';
import { EmptyState, QueryState } from '../../../../lib/layout';
import { useOperation } from '../../../../lib/use-operation';
import { AppStatusBadge, DecisionBadge, DisabledBadge, VerificationBadge } from '../../../components/badges';
import { APP_OVERVIEW } from '../../../operations';
import { useAppTab } from '../AppPage';
import { Field } from '../../../components/Field';

export default function OverviewTab() {
  const { app: header } = useAppTab();
  const state = useOperation(APP_OVERVIEW, { key: header.key });
  return (
    <QueryState state={state} loadingLabel="Loading the overview" isEmpty={(data) => !data.app} empty={<EmptyState title="No such app" />}>
      {(data) => {
        const app = data.app!;
        return (
          <Stack gap="xl">
            <Card withBorder padding="lg" component="section" aria-labelledby="app-summary">
              <Title order={2} size="h4" id="app-summary" mb="md">
                Summary
              </Title>
              <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="md">
                <Field label="Status">
                  <AppStatusBadge status={app.status} />
                </Field>
                <Field label="Developer">
                  <Group gap={6}>
                    <Anchor component={Link} to={`/developers/${encodeURIComponent(app.developer.id)}`} size="sm">
                      {app.developer.companyName ?? app.developer.name}
                    </Anchor>
                    <VerificationBadge status={app.developer.verificationStatus} />
                    {app.developer.disabledAt && <DisabledBadge />}
                  </Group>
                  <Text size="xs" c="dimmed">
                    {app.developer.email}
                  </Text>
                </Field>
                <Field label="Created">{formatDateTime(app.createdAt)}</Field>
                <Field label="Signed requests">{app.signatureRequired ? 'Required' : 'Not required'}</Field>
                <Field label="IP allow list">{app.ipAllowList.length ? app.ipAllowList.join(', ') : 'Any address'}</Field>
                <Field label="Redirect URIs">{app.redirectUris.length ? app.redirectUris.join(', ') : 'None'}</Field>
              </SimpleGrid>
              <Text size="sm" mt="md">
                {app.description || 'No description.'}
              </Text>
            </Card>

            <section aria-labelledby="app-status-history">
              <Title order={2} size="h4" id="app-status-history" mb="sm">
                Status history
              </Title>
              {app.statusHistory.length === 0 ? (
                <EmptyState title="Its status never changed" />
              ) : (
                <Table striped>
                  <Table.Caption>Every change of the app's status, newest first</Table.Caption>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>When</Table.Th>
                      <Table.Th>Change</Table.Th>
                      <Table.Th>Who</Table.Th>
                      <Table.Th>Why</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {app.statusHistory.map((change, index) => (
                      <Table.Tr key={`${change.at}-${index}`}>
                        <Table.Td>{formatDateTime(change.at)}</Table.Td>
                        <Table.Td>
                          <Group gap={4} wrap="nowrap">
                            <AppStatusBadge status={change.from} /> → <AppStatusBadge status={change.to} />
                          </Group>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm" ff="monospace">
                            {change.actor ?? '—'}
                          </Text>
                        </Table.Td>
                        <Table.Td>{change.reason}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </section>

            <section aria-labelledby="app-reviews">
              <Title order={2} size="h4" id="app-reviews" mb="sm">
                Reviews
              </Title>
              {app.reviews.length === 0 ? (
                <EmptyState title="Never submitted for review" />
              ) : (
                <Stack gap="sm">
                  {app.reviews.map((review) => (
                    <Card key={review.id} withBorder padding="sm">
                      <Group gap="xs" mb={4}>
                        <DecisionBadge status={review.status} />
                        <Text size="sm">submitted {formatDateTime(review.submittedAt)}</Text>
                        {review.decidedAt && (
                          <Badge variant="default" size="sm">
                            decided {formatDateTime(review.decidedAt)}
                          </Badge>
                        )}
                      </Group>
                      <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                        {review.notes || 'No notes.'}
                      </Text>
                      {review.decisionReason && (
                        <Text size="sm" c="dimmed" mt={4}>
                          Decision: {review.decisionReason}
                        </Text>
                      )}
                    </Card>
                  ))}
                </Stack>
              )}
            </section>
          </Stack>
        );
      }}
    </QueryState>
  );
}
