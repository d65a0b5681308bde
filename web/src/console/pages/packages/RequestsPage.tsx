/**
 * The package request queue (/package-requests): pending requests oldest first, each with the app,
 * its developer, the package and the developer's message; approve (granting the package) or reject,
 * each with a reason the developer reads. The decided ones stay readable by status.
 */
import { Anchor, Button, Group, SegmentedControl, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { EmptyState, formatDateTime, PageHeader, QueryState, useMutation, useOperation } from '../../../lib';
import { ReasonDialog } from '../../components/ReasonDialog';
import { RequestStatusBadge, TierBadge } from './badges';
import { APPROVE_REQUEST, PACKAGE_REQUESTS, REJECT_REQUEST, type PackageRequest, type PackageRequestStatus } from './operations';

const STATUSES: { value: PackageRequestStatus; label: string }[] = [
  { value: 'PENDING', label: 'Pending' },
  { value: 'APPROVED', label: 'Approved' },
  { value: 'REJECTED', label: 'Rejected' },
  { value: 'WITHDRAWN', label: 'Withdrawn' },
];

export default function RequestsPage() {
  const [status, setStatus] = useState<PackageRequestStatus>('PENDING');
  return (
    <>
      <PageHeader
        title="Package requests"
        description="Apps ask for packages; approving grants the package at once. The developer reads your reason."
        actions={
          <Button component={Link} to="/packages" variant="default">
            All packages
          </Button>
        }
      />
      <Stack>
        <SegmentedControl aria-label="Status" w="fit-content" value={status} onChange={(value) => setStatus(value as PackageRequestStatus)} data={STATUSES} />
        {/* Keyed by status: another status starts from its loader, never from the previous status's list. */}
        <RequestQueue key={status} status={status} />
      </Stack>
    </>
  );
}

function RequestQueue({ status }: { status: PackageRequestStatus }) {
  const [after, setAfter] = useState<string | null>(null);
  const [shown, setShown] = useState<PackageRequest[]>([]);
  const page = useOperation(PACKAGE_REQUESTS, { status, after });
  const connection = page.data?.packageRequests;
  useEffect(() => {
    if (connection) setShown((previous) => (after ? [...previous, ...connection.nodes.filter((n) => !previous.some((p) => p.id === n.id))] : connection.nodes));
  }, [connection, after]);

  const approve = useMutation(APPROVE_REQUEST);
  const reject = useMutation(REJECT_REQUEST);
  const [deciding, setDeciding] = useState<{ request: PackageRequest; approve: boolean } | null>(null);
  const action = deciding?.approve ? approve : reject;

  return (
    <>
      <QueryState
        state={{ ...page, data: connection ? { list: after ? shown : connection.nodes, total: connection.totalCount } : undefined }}
        loadingLabel="Loading the requests"
        isEmpty={(data) => data.list.length === 0}
        empty={<EmptyState title={status === 'PENDING' ? 'No request waits' : `No ${status.toLowerCase()} requests`}>{status === 'PENDING' ? 'Requests apps send show here, oldest first.' : null}</EmptyState>}
      >
        {({ list, total }) => (
          <Stack>
            <Text size="sm" c="dimmed" aria-live="polite">
              {total} {status.toLowerCase()} {total === 1 ? 'request' : 'requests'}
            </Text>
            <Table.ScrollContainer minWidth={860}>
              <Table striped aria-label="Package requests" verticalSpacing="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>App</Table.Th>
                    <Table.Th>Package</Table.Th>
                    <Table.Th>Message</Table.Th>
                    <Table.Th>Requested</Table.Th>
                    <Table.Th>{status === 'PENDING' ? <VisuallyHidden>Decision</VisuallyHidden> : 'Decision'}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.map((request) => (
                    <Table.Tr key={request.id} data-testid="package-request">
                      <Table.Td>
                        <Anchor component={Link} to={`/apps/${encodeURIComponent(request.app.key)}`} size="sm">
                          {request.app.name}
                        </Anchor>
                        <Text size="xs" c="dimmed">
                          {request.app.key} · {request.app.developer.name}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Group gap="xs" wrap="nowrap">
                          <Text size="sm">{request.package.name}</Text>
                          <TierBadge tier={request.package.tier} />
                        </Group>
                        <Text size="xs" c="dimmed">
                          {request.package.scopes.map((s) => s.name).join(', ')}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                          {request.message || '—'}
                        </Text>
                      </Table.Td>
                      <Table.Td>{formatDateTime(request.createdAt)}</Table.Td>
                      <Table.Td>
                        {request.status === 'PENDING' ? (
                          <Group gap="xs" wrap="nowrap">
                            <Button size="xs" onClick={() => setDeciding({ request, approve: true })} aria-label={`Approve ${request.package.name} for ${request.app.name}`}>
                              Approve
                            </Button>
                            <Button size="xs" variant="default" color="red" onClick={() => setDeciding({ request, approve: false })} aria-label={`Reject ${request.package.name} for ${request.app.name}`}>
                              Reject
                            </Button>
                          </Group>
                        ) : (
                          <Stack gap={2}>
                            <RequestStatusBadge status={request.status} />
                            <Text size="xs" c="dimmed">
                              {formatDateTime(request.decidedAt)}
                            </Text>
                            {request.decisionReason && <Text size="xs">{request.decisionReason}</Text>}
                          </Stack>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {connection?.pageInfo.hasNextPage && (
              <Button variant="default" w="fit-content" loading={page.loading} onClick={() => setAfter(connection.pageInfo.endCursor)}>
                More requests
              </Button>
            )}
          </Stack>
        )}
      </QueryState>

      <ReasonDialog
        opened={!!deciding}
        title={deciding ? `${deciding.approve ? 'Approve' : 'Reject'} ${deciding.request.package.name} for ${deciding.request.app.name}` : ''}
        description={deciding?.approve ? 'The package is granted to the app at once.' : 'The app does not get the package; it may ask again.'}
        reasonHint="The developer reads it; the audit log keeps it with your name."
        {...(deciding && !deciding.approve ? { confirmColor: 'red.9' } : {})}
        error={action.error}
        onClose={() => {
          setDeciding(null);
          approve.reset();
          reject.reset();
        }}
        onConfirm={async (reason) => {
          if (!deciding) return false;
          const input = { requestId: deciding.request.id, reason };
          const done = deciding.approve ? await approve.run({ input }) : await reject.run({ input });
          if (!done) return false;
          // Back to the first page: the decided request leaves this status's list.
          if (after) setAfter(null);
          else await page.refetch();
          return true;
        }}
      />
    </>
  );
}
