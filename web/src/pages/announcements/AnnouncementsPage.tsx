import { PageHeader } from '../../lib';

/** Announcements */
export default function AnnouncementsPage() {
  return <PageHeader title="Announcements" description="Coming shortly." />;
}
