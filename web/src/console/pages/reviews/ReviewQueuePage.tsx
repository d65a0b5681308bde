/**
 * The review queue: apps their developers submitted for release, oldest first, with what the
 * reviewer needs: the developer's notes, the packages the app asks for, its sandbox use (calls of the
 * last 30 days, today's against its quota). Release (approveAppReview: the app goes LIVE) or Send back
 * with a reason the developer reads (rejectAppReview).
 */
import { Anchor, Badge, Blockquote, Button, Card, Group, List, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { formatDateTime, formatNumber } from '../../../lib/format';
import { EmptyState, PageHeader, QueryState } from '../../../lib/layout';
import { useMutation, useOperation } from '../../../lib/use-operation';
import { DecisionBadge, VerificationBadge } from '../../components/badges';
import { ReasonDialog } from '../../components/ReasonDialog';
import { APPROVE_REVIEW, REJECT_REVIEW, REVIEW_QUEUE, type ReviewItem } from '../../operations';

const SANDBOX_DAYS = 30;

function usageWindow() {
  const to = new Date();
  to.setUTCMinutes(0, 0, 0);
  to.setUTCHours(to.getUTCHours() + 1);
  return { from: new Date(to.getTime() - SANDBOX_DAYS * 24 * 3600_000).toISOString(), to: to.toISOString() };
}

function ReviewCard({ review, onDecide }: { review: ReviewItem; onDecide: (review: ReviewItem, decision: 'release' | 'send-back') => void }) {
  const { app } = review;
  const total = app.callReport.total;
  return (
    <Card withBorder padding="lg" component="article" aria-labelledby={`review-${review.id}`} data-testid="app-review">
      <Group justify="space-between" align="flex-start" mb="sm" wrap="wrap">
        <Stack gap={2}>
          <Title order={2} size="h4" id={`review-${review.id}`}>
            <Anchor component={Link} to={`/apps/${encodeURIComponent(app.key)}`} inherit>
              {app.name}
            </Anchor>
          </Title>
          <Text size="sm" c="dimmed" component="div">
            by{' '}
            <Anchor component={Link} to={`/developers/${encodeURIComponent(app.developer.id)}`} size="sm">
              {app.developer.companyName ?? app.developer.name}
            </Anchor>{' '}
            <VerificationBadge status={app.developer.verificationStatus} /> · submitted {formatDateTime(review.submittedAt)}
          </Text>
        </Stack>
        <Group gap="sm">
          <Button onClick={() => onDecide(review, 'release')}>
            Release
          </Button>
          <Button variant="light" color="orange" onClick={() => onDecide(review, 'send-back')}>
            Send back
          </Button>
        </Group>
      </Group>
      <Stack gap="md">
        <div>
          <Text size="sm" fw={600}>
            What the app does
          </Text>
          <Text size="sm">{app.description || '—'}</Text>
        </div>
        <div>
          <Text size="sm" fw={600}>
            Notes for the reviewer
          </Text>
          {review.notes ? (
            <Blockquote p="sm" mt={4} style={{ whiteSpace: 'pre-wrap' }}>
              {review.notes}
            </Blockquote>
          ) : (
            <Text size="sm" c="dimmed">
              None given.
            </Text>
          )}
        </div>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <div>
            <Text size="sm" fw={600}>
              Requested packages
            </Text>
            {app.packageRequests.length === 0 ? (
              <Text size="sm" c="dimmed">
                None.
              </Text>
            ) : (
              <List size="sm" spacing={4}>
                {app.packageRequests.map((request) => (
                  <List.Item key={request.id}>
                    {request.package.name} <Badge size="xs" variant="outline">{request.package.tier}</Badge> <DecisionBadge status={request.status} />
                    {request.message && (
                      <Text size="xs" c="dimmed">
                        “{request.message}”
                      </Text>
                    )}
                  </List.Item>
                ))}
              </List>
            )}
          </div>
          <div>
            <Text size="sm" fw={600}>
              Sandbox use
            </Text>
            <Text size="sm">
              {formatNumber(total.calls)} calls in the last {SANDBOX_DAYS} days, {formatNumber(total.errors)} with errors ({(total.errorRate * 100).toFixed(1)} %)
            </Text>
            <Text size="sm" c="dimmed">
              Today: {formatNumber(app.usage.callsToday)} of {formatNumber(app.usage.dailyQuota)} ({app.usage.tier} tier)
            </Text>
          </div>
        </SimpleGrid>
      </Stack>
    </Card>
  );
}

export default function ReviewQueuePage() {
  const range = useMemo(usageWindow, []);
  const state = useOperation(REVIEW_QUEUE, range);
  const approve = useMutation(APPROVE_REVIEW);
  const reject = useMutation(REJECT_REVIEW);
  const [deciding, setDeciding] = useState<{ review: ReviewItem; decision: 'release' | 'send-back' } | null>(null);
  const mutation = deciding?.decision === 'release' ? approve : reject;

  return (
    <>
      <PageHeader title="Review queue" description="Apps submitted for release, oldest first. Release one to make it LIVE for every merchant, or send it back with what to change." />
      <QueryState
        state={state}
        loadingLabel="Loading the review queue"
        isEmpty={(data) => data.appReviews.length === 0}
        empty={<EmptyState title="Nothing to review">When a developer submits an app for release, it shows here.</EmptyState>}
      >
        {(data) => (
          <Stack gap="md">
            {data.appReviews.map((review) => (
              <ReviewCard
                key={review.id}
                review={review}
                onDecide={(chosen, decision) => {
                  (decision === 'release' ? approve : reject).reset();
                  setDeciding({ review: chosen, decision });
                }}
              />
            ))}
          </Stack>
        )}
      </QueryState>
      {deciding && (
        <ReasonDialog
          opened
          title={deciding.decision === 'release' ? `Release ${deciding.review.app.name}` : `Send ${deciding.review.app.name} back`}
          description={
            deciding.decision === 'release'
              ? 'The app goes LIVE: every merchant can authorize it.'
              : 'The app stays in the sandbox; the developer reads your reason with the review and can submit again.'
          }
          {...(deciding.decision === 'send-back' ? { reasonHint: 'The developer reads this: say what to change.', confirmColor: 'orange.9' } : {})}
          error={mutation.error}
          onClose={() => setDeciding(null)}
          onConfirm={async (reason) => {
            const done = await mutation.run({ input: { reviewId: deciding.review.id, reason } });
            if (done) await state.refetch();
            return Boolean(done);
          }}
        />
      )}
    </>
  );
}
