/**
 * One developer: their profile, their apps, what happened to them (the audit log's entries), and the
 * decisions: Verify, Reject (the reason is what the developer reads), Disable and Enable.
 */
import { Anchor, Button, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { formatDateTime } from '../../../lib/format';
import { EmptyState, PageHeader, QueryState } from '../../../lib/layout';
import { useMutation, useOperation } from '../../../lib/use-operation';
import { AuditTrail } from '../../components/AuditTrail';
import { AppStatusBadge, DisabledBadge, VerificationBadge } from '../../components/badges';
import { ReasonDialog } from '../../components/ReasonDialog';
import { DEVELOPER, DISABLE_DEVELOPER, ENABLE_DEVELOPER, REJECT_DEVELOPER, VERIFY_DEVELOPER, type DeveloperDetail } from '../../operations';
import { Field } from '../../components/Field';

type Decision = 'verify' | 'reject' | 'disable' | 'enable';

const DECISIONS: Record<Decision, { title: string; description: string; hint?: string; color?: string }> = {
  verify: { title: 'Verify the developer', description: 'They may create apps. They are told by email.' },
  reject: {
    title: "Reject the developer's verification",
    description: 'They can no longer create apps.',
    hint: 'The developer reads this, in the portal and by email: say what to change.',
    color: 'red.9',
  },
  disable: { title: 'Disable the account', description: 'No more sign-ins; every portal session ends within seconds. Their apps are not touched: suspend those separately.', color: 'red.9' },
  enable: { title: 'Enable the account', description: 'They may sign in to the portal again.' },
};

function DeveloperView({ developer, refetch }: { developer: DeveloperDetail; refetch: () => Promise<void> }) {
  const [decision, setDecision] = useState<Decision | null>(null);
  const verify = useMutation(VERIFY_DEVELOPER);
  const reject = useMutation(REJECT_DEVELOPER);
  const disable = useMutation(DISABLE_DEVELOPER);
  const enable = useMutation(ENABLE_DEVELOPER);
  const mutations = { verify, reject, disable, enable };
  const current = decision ? mutations[decision] : undefined;

  const open = (next: Decision) => {
    mutations[next].reset();
    setDecision(next);
  };

  return (
    <>
      <PageHeader
        title={developer.name}
        description={developer.email}
        actions={
          <>
            {developer.verificationStatus !== 'VERIFIED' && <Button onClick={() => open('verify')}>Verify</Button>}
            {developer.verificationStatus !== 'REJECTED' && (
              <Button color="red" variant="light" onClick={() => open('reject')}>
                Reject
              </Button>
            )}
            {developer.disabledAt ? (
              <Button variant="default" onClick={() => open('enable')}>
                Enable
              </Button>
            ) : (
              <Button color="red" variant="outline" onClick={() => open('disable')}>
                Disable
              </Button>
            )}
          </>
        }
      />
      <Stack gap="xl">
        <Card withBorder padding="lg" component="section" aria-labelledby="developer-profile">
          <Title order={2} size="h4" id="developer-profile" mb="md">
            Profile
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="md">
            <Field label="Verification">
              <Group gap={6}>
                <VerificationBadge status={developer.verificationStatus} />
                {developer.disabledAt && <DisabledBadge />}
              </Group>
            </Field>
            <Field label="Kind">{developer.kind === 'COMPANY' ? `Company: ${developer.companyName ?? '—'}` : 'Individual'}</Field>
            <Field label="Email">{developer.emailVerified ? 'Confirmed' : 'Not confirmed yet'}</Field>
            <Field label="Signed up">{formatDateTime(developer.createdAt)}</Field>
            <Field label="Disabled">{developer.disabledAt ? formatDateTime(developer.disabledAt) : 'No'}</Field>
            <Field label="Announcements by email">{developer.announcementEmails ? 'Yes' : 'No'}</Field>
            {developer.verificationReason && <Field label="Reason given">{developer.verificationReason}</Field>}
          </SimpleGrid>
        </Card>

        <section aria-labelledby="developer-apps">
          <Title order={2} size="h4" id="developer-apps" mb="sm">
            Apps
          </Title>
          {developer.apps.length === 0 ? (
            <EmptyState title="No apps yet" />
          ) : (
            <Table striped>
              <Table.Caption>{developer.name}'s apps, newest first</Table.Caption>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>App</Table.Th>
                  <Table.Th>Key</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Created</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {developer.apps.map((app) => (
                  <Table.Tr key={app.key}>
                    <Table.Td>
                      <Anchor component={Link} to={`/apps/${encodeURIComponent(app.key)}`}>
                        {app.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {app.key}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <AppStatusBadge status={app.status} />
                    </Table.Td>
                    <Table.Td>{formatDateTime(app.createdAt)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </section>

        <section aria-labelledby="developer-history">
          <Title order={2} size="h4" id="developer-history" mb="sm">
            History
          </Title>
          <AuditTrail entries={developer.history} caption={`What happened to ${developer.name} and their apps, newest first`} />
        </section>
      </Stack>

      {decision && current && (
        <ReasonDialog
          opened
          title={DECISIONS[decision].title}
          description={DECISIONS[decision].description}
          {...(DECISIONS[decision].hint ? { reasonHint: DECISIONS[decision].hint } : {})}
          {...(DECISIONS[decision].color ? { confirmColor: DECISIONS[decision].color } : {})}
          error={current.error}
          onClose={() => setDecision(null)}
          onConfirm={async (reason) => {
            const done = await current.run({ input: { developerId: developer.id, reason } });
            if (done) await refetch();
            return Boolean(done);
          }}
        />
      )}
    </>
  );
}

export default function DeveloperPage() {
  const { developerId = '' } = useParams();
  const state = useOperation(DEVELOPER, { id: developerId });
  return (
    <QueryState state={state} loadingLabel="Loading the developer" isEmpty={(data) => !data.developer} empty={<EmptyState title="No such developer" />}>
      {(data) => <DeveloperView developer={data.developer!} refetch={state.refetch} />}
    </QueryState>
  );
}
