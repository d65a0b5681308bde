import { PageHeader } from '../../lib';

/** API reference */
export default function ReferencePage() {
  return <PageHeader title="API reference" description="Coming shortly." />;
}
