import { PageHeader } from '../../../lib';

/** Permission packages */
export default function PackagesTab() {
  return <PageHeader title="Permission packages" description="Coming shortly." />;
}
