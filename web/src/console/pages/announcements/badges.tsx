/** An announcement's status as a coloured word. */
import { Badge } from '@mantine/core';
import type { AnnouncementStatus } from './operations';

const STATUS: Record<AnnouncementStatus, { color: string; label: string }> = {
  DRAFT: { color: 'gray', label: 'Draft' },
  SCHEDULED: { color: 'blue', label: 'Scheduled' },
  PUBLISHED: { color: 'green', label: 'Published' },
  WITHDRAWN: { color: 'red', label: 'Withdrawn' },
};

export function AnnouncementStatusBadge({ status }: { status: AnnouncementStatus }) {
  return (
    <Badge color={STATUS[status].color} variant="light" data-testid="announcement-status" style={{ flexShrink: 0 }}>
      {STATUS[status].label}
    </Badge>
  );
}
