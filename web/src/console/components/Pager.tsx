/**
 * Forward cursor pagination (the API's `first`/`after`): the cursors of the pages seen so far, so
 * "Previous" goes back without the API paging backwards. Starts over when `resetKey` changes (a new
 * search or filter).
 */
import { Button, Group, Text } from '@mantine/core';
import { useEffect, useState } from 'react';

export function usePager(resetKey: string) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  useEffect(() => setCursors([null]), [resetKey]);
  const after = cursors[cursors.length - 1] ?? null;
  return {
    after,
    page: cursors.length,
    next: (endCursor: string | null) => endCursor && setCursors((seen) => [...seen, endCursor]),
    previous: () => setCursors((seen) => (seen.length > 1 ? seen.slice(0, -1) : seen)),
  };
}

/** `loading`: another page (or a new search) is on its way; the rows shown are the previous answer's. */
export function Pager({ pager, hasNextPage, endCursor, totalCount, pageSize, noun, loading = false }: { pager: ReturnType<typeof usePager>; hasNextPage: boolean; endCursor: string | null; totalCount: number; pageSize: number; noun: string; loading?: boolean }) {
  const pages = Math.max(1, Math.ceil(totalCount / pageSize));
  return (
    <Group justify="space-between" mt="md">
      <Text size="sm" c="dimmed" aria-live="polite">
        {loading ? 'Updating the list…' : `${totalCount} ${noun} · page ${pager.page} of ${pages}`}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" disabled={loading || pager.page <= 1} onClick={pager.previous}>
          Previous page
        </Button>
        <Button variant="default" size="xs" disabled={loading || !hasNextPage} onClick={() => pager.next(endCursor)}>
          Next page
        </Button>
      </Group>
    </Group>
  );
}
