/** The app's status, its submissions for review with their outcome, and submitting it (with notes). */
import { Button, Group, Stack, Table, Text, Textarea, Timeline } from '@mantine/core';
import { useState } from 'react';
import { EmptyState, ErrorAlert, formatDateTime, QueryState, useMutation, useOperation } from '../../../lib';
import { useAppTab, useTabTitle } from '../app-context';
import { AppStatusBadge, OutcomeBadge } from '../badges';
import { APP_REVIEWS, SUBMIT_FOR_REVIEW } from '../operations';
import { Section } from '../section';

export default function ReviewTab() {
  useTabTitle('Status and review');
  const { app: header, refreshApp } = useAppTab();
  const reviews = useOperation(APP_REVIEWS, { key: header.key });
  const submit = useMutation(SUBMIT_FOR_REVIEW);
  const [notes, setNotes] = useState('');

  return (
    <QueryState state={{ ...reviews, data: reviews.data?.developerApp ?? undefined }} loadingLabel="Loading the reviews">
      {(app) => {
        const pending = app.reviews.some((review) => review.status === 'PENDING');
        return (
          <Stack maw={900}>
            <Section title="Status" description="A SANDBOX app acts only for its own sandbox and test merchants; the platform's review releases it to every merchant (LIVE).">
              <Group>
                <Text>Now:</Text>
                <AppStatusBadge status={app.status} />
              </Group>
              {app.statusHistory.length > 0 && (
                <Timeline bulletSize={14} lineWidth={2} aria-label="Status history">
                  {app.statusHistory.map((change) => (
                    <Timeline.Item key={`${change.at}-${change.to}`} title={`${change.from} → ${change.to}`}>
                      <Text size="sm">{change.reason}</Text>
                      <Text size="xs" c="dimmed">
                        {formatDateTime(change.at)}
                      </Text>
                    </Timeline.Item>
                  ))}
                </Timeline>
              )}
            </Section>
            {app.status === 'SANDBOX' && (
              <Section title="Submit for review" description="Tell the reviewer what the app does and how to try it.">
                <form
                  aria-label="Submit for review"
                  onSubmit={async (event) => {
                    event.preventDefault();
                    if (await submit.run({ input: { appKey: app.key, ...(notes.trim() ? { notes: notes.trim() } : {}) } })) {
                      setNotes('');
                      await reviews.refetch();
                      await refreshApp();
                    }
                  }}
                >
                  <Stack>
                    <Textarea label="Notes for the reviewer" autosize minRows={3} maxLength={5000} value={notes} onChange={(e) => setNotes(e.currentTarget.value)} disabled={pending} />
                    <ErrorAlert error={submit.error} title="Not submitted" />
                    <Group>
                      <Button type="submit" loading={submit.loading} disabled={pending}>
                        Submit for review
                      </Button>
                      {pending && (
                        <Text size="sm" c="dimmed">
                          A review is pending: the platform answers it first.
                        </Text>
                      )}
                    </Group>
                  </Stack>
                </form>
              </Section>
            )}
            <Section title="Reviews">
              {app.reviews.length === 0 ? (
                <EmptyState title="Not submitted yet">When the app works in its sandbox, submit it for review to go live.</EmptyState>
              ) : (
                <Table.ScrollContainer minWidth={600}>
                  <Table striped aria-label="Reviews">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Submitted</Table.Th>
                        <Table.Th>Outcome</Table.Th>
                        <Table.Th>Your notes</Table.Th>
                        <Table.Th>The reviewer's reason</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {app.reviews.map((review) => (
                        <Table.Tr key={review.id}>
                          <Table.Td>{formatDateTime(review.submittedAt)}</Table.Td>
                          <Table.Td>
                            <OutcomeBadge status={review.status} />
                            {review.decidedAt && (
                              <Text size="xs" c="dimmed">
                                {formatDateTime(review.decidedAt)}
                              </Text>
                            )}
                          </Table.Td>
                          <Table.Td>{review.notes || '—'}</Table.Td>
                          <Table.Td>{review.decisionReason ?? '—'}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Section>
          </Stack>
        );
      }}
    </QueryState>
  );
}
