/** The operators' announcements to this developer (to everyone, or to a package one of their apps holds), newest first. */
import { Badge, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { EmptyState, formatDateTime, operation, PageHeader, QueryState, useOperation } from '../../lib';
import type { PortalAnnouncementsResult, PortalAnnouncementsVariables } from '../../generated/operations';
import { Markdown } from '../../lib/markdown';

type Announcement = PortalAnnouncementsResult['announcements']['nodes'][number];

const ANNOUNCEMENTS = operation<PortalAnnouncementsResult, PortalAnnouncementsVariables>(/* GraphQL */ `
  query PortalAnnouncements($after: String) {
    announcements(first: 20, after: $after) {
      nodes { id title body publishedAt packages { id name } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export default function AnnouncementsPage() {
  const [after, setAfter] = useState<string | null>(null);
  const [shown, setShown] = useState<Announcement[]>([]);
  const page = useOperation(ANNOUNCEMENTS, { after });
  const data = page.data?.announcements;
  useEffect(() => {
    if (data) setShown((previous) => (after ? [...previous, ...data.nodes.filter((n) => !previous.some((p) => p.id === n.id))] : data.nodes));
  }, [data, after]);

  return (
    <>
      <PageHeader title="Announcements" description="News from the platform's operators: new APIs, changes, deprecations." />
      <QueryState
        state={{ ...page, data: data ? shown : undefined }}
        loadingLabel="Loading the announcements"
        isEmpty={(list) => list.length === 0}
        empty={<EmptyState title="No announcements yet">The operators' news for developers will appear here.</EmptyState>}
      >
        {(list) => (
          <Stack maw={820}>
            {list.map((announcement) => (
              <Card key={announcement.id} withBorder padding="lg" component="article" aria-labelledby={`announcement-${announcement.id}`}>
                <Group justify="space-between" align="flex-start" mb="xs">
                  <Title order={2} size="h4" id={`announcement-${announcement.id}`}>
                    {announcement.title}
                  </Title>
                  {/* Developers are only shown published announcements, which have a time; a null stays blank. */}
                  {announcement.publishedAt && (
                    <Text size="sm" c="dimmed">
                      <time dateTime={announcement.publishedAt}>{formatDateTime(announcement.publishedAt)}</time>
                    </Text>
                  )}
                </Group>
                {announcement.packages.length > 0 && (
                  <Group gap={4} mb="xs" aria-label="For holders of">
                    {announcement.packages.map((pkg) => (
                      <Badge key={pkg.id} variant="outline" size="sm">
                        {pkg.name}
                      </Badge>
                    ))}
                  </Group>
                )}
                <Markdown source={announcement.body} />
              </Card>
            ))}
            {data?.pageInfo.hasNextPage && (
              <Button variant="default" w="fit-content" loading={page.loading} onClick={() => setAfter(data.pageInfo.endCursor)}>
                Older announcements
              </Button>
            )}
          </Stack>
        )}
      </QueryState>
    </>
  );
}
