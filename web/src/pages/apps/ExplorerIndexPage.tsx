import { PageHeader } from '../../lib';

/** API explorer */
export default function ExplorerIndexPage() {
  return <PageHeader title="API explorer" description="Coming shortly." />;
}
