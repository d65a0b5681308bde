import { PageHeader } from '../../../lib';

/** Limits and usage */
export default function UsageTab() {
  return <PageHeader title="Limits and usage" description="Coming shortly." />;
}
