import { PageHeader } from '../../lib';

/** Apps */
export default function AppsPage() {
  return <PageHeader title="Apps" description="Coming shortly." />;
}
