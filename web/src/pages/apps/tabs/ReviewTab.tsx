import { PageHeader } from '../../../lib';

/** Status and review */
export default function ReviewTab() {
  return <PageHeader title="Status and review" description="Coming shortly." />;
}
