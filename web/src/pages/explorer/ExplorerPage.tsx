import { PageHeader } from '../../lib';

/** API explorer */
export default function ExplorerPage() {
  return <PageHeader title="API explorer" description="Coming shortly." />;
}
