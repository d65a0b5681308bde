/**
 * Operators' announcements to developers (/announcements), newest first: drafts, scheduled,
 * published and withdrawn ones, each with its targets and when its emails went out; write a new one,
 * change or publish one not yet out, withdraw one that is (with a reason).
 */
import { Badge, Button, Card, Group, Spoiler, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { EmptyState, formatDateTime, PageHeader, QueryState, useMutation, useOperation } from '../../../lib';
import { Markdown } from '../../../lib/markdown';
import { ReasonDialog } from '../../components/ReasonDialog';
import { AnnouncementStatusBadge } from './badges';
import { ANNOUNCEMENTS, PUBLISH_ANNOUNCEMENT, WITHDRAW_ANNOUNCEMENT, type Announcement } from './operations';

function when(announcement: Announcement): string {
  switch (announcement.status) {
    case 'DRAFT':
      return 'Not scheduled';
    case 'SCHEDULED':
      return `Publishes ${formatDateTime(announcement.publishedAt)}`;
    case 'PUBLISHED':
      return `Published ${formatDateTime(announcement.publishedAt)}`;
    case 'WITHDRAWN':
      return announcement.publishedAt ? `Withdrawn (was published ${formatDateTime(announcement.publishedAt)})` : 'Withdrawn';
  }
}

export default function AnnouncementsPage() {
  const [after, setAfter] = useState<string | null>(null);
  const [shown, setShown] = useState<Announcement[]>([]);
  const page = useOperation(ANNOUNCEMENTS, { first: 20, after });
  const connection = page.data?.operatorAnnouncements;
  useEffect(() => {
    if (connection) setShown((previous) => (after ? [...previous, ...connection.nodes.filter((n) => !previous.some((p) => p.id === n.id))] : connection.nodes));
  }, [connection, after]);

  const publish = useMutation(PUBLISH_ANNOUNCEMENT);
  const withdraw = useMutation(WITHDRAW_ANNOUNCEMENT);
  const [publishing, setPublishing] = useState<Announcement | null>(null);
  const [withdrawing, setWithdrawing] = useState<Announcement | null>(null);
  const reload = async () => {
    if (after) setAfter(null);
    else await page.refetch();
  };

  return (
    <>
      <PageHeader
        title="Announcements"
        description="News for developers: in the portal, through the API, and by email to those who chose it. Target everyone or the holders of some packages."
        actions={
          <Button component={Link} to="/announcements/new">
            New announcement
          </Button>
        }
      />
      <QueryState
        state={{ ...page, data: connection ? (after ? shown : connection.nodes) : undefined }}
        loadingLabel="Loading the announcements"
        isEmpty={(list) => list.length === 0}
        empty={
          <EmptyState title="No announcements yet" action={<Button component={Link} to="/announcements/new">New announcement</Button>}>
            Write one; it stays a draft until you schedule or publish it.
          </EmptyState>
        }
      >
        {(list) => (
          <Stack maw={960}>
            {list.map((announcement) => {
              const open = announcement.status === 'DRAFT' || announcement.status === 'SCHEDULED';
              return (
                <Card key={announcement.id} withBorder padding="lg" component="article" aria-labelledby={`announcement-${announcement.id}`} data-testid="announcement">
                  <Group justify="space-between" align="flex-start" mb="xs" wrap="nowrap">
                    <Stack gap={4}>
                      <Group gap="xs">
                        <Title order={2} size="h4" id={`announcement-${announcement.id}`}>
                          {announcement.title}
                        </Title>
                        <AnnouncementStatusBadge status={announcement.status} />
                      </Group>
                      <Text size="sm" c="dimmed">
                        {when(announcement)} · by {announcement.createdBy}
                        {announcement.emailedAt ? ` · emailed ${formatDateTime(announcement.emailedAt)}` : ''}
                      </Text>
                      <Group gap={4} aria-label="For">
                        {announcement.packages.length === 0 ? (
                          <Badge variant="outline" size="sm" color="gray.8">
                            Every developer
                          </Badge>
                        ) : (
                          announcement.packages.map((pkg) => (
                            <Badge key={pkg.id} variant="outline" size="sm">
                              {pkg.name}
                            </Badge>
                          ))
                        )}
                      </Group>
                    </Stack>
                    <Group gap="xs" wrap="nowrap">
                      {open && (
                        <>
                          <Button component={Link} to={`/announcements/${encodeURIComponent(announcement.id)}`} size="xs" variant="default" aria-label={`Edit ${announcement.title}`}>
                            Edit
                          </Button>
                          <Button size="xs" onClick={() => setPublishing(announcement)} aria-label={`Publish now: ${announcement.title}`}>
                            Publish now
                          </Button>
                        </>
                      )}
                      {(announcement.status === 'SCHEDULED' || announcement.status === 'PUBLISHED') && (
                        <Button size="xs" variant="default" color="red" onClick={() => setWithdrawing(announcement)} aria-label={`Withdraw ${announcement.title}`}>
                          Withdraw
                        </Button>
                      )}
                    </Group>
                  </Group>
                  <Spoiler maxHeight={120} showLabel="Show all" hideLabel="Show less">
                    <Markdown source={announcement.body} />
                  </Spoiler>
                </Card>
              );
            })}
            {connection?.pageInfo.hasNextPage && (
              <Button variant="default" w="fit-content" loading={page.loading} onClick={() => setAfter(connection.pageInfo.endCursor)}>
                Older announcements
              </Button>
            )}
          </Stack>
        )}
      </QueryState>

      <ReasonDialog
        opened={!!publishing}
        title={publishing ? `Publish “${publishing.title}” now` : ''}
        description="Developers it targets see it at once in the portal and through the API; those who chose announcement emails get it by email. It cannot be changed afterwards, only withdrawn."
        askReason={false}
        error={publish.error}
        onClose={() => {
          setPublishing(null);
          publish.reset();
        }}
        onConfirm={async () => {
          if (!publishing || !(await publish.run({ input: { id: publishing.id } }))) return false;
          await reload();
          return true;
        }}
      />

      <ReasonDialog
        opened={!!withdrawing}
        title={withdrawing ? `Withdraw “${withdrawing.title}”` : ''}
        description="Developers no longer see it in the portal or through the API. Emails already sent stay sent."
        confirmColor="red.9"
        error={withdraw.error}
        onClose={() => {
          setWithdrawing(null);
          withdraw.reset();
        }}
        onConfirm={async (reason) => {
          if (!withdrawing || !(await withdraw.run({ input: { id: withdrawing.id, reason } }))) return false;
          await reload();
          return true;
        }}
      />
    </>
  );
}
