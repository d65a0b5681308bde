import { PageHeader } from '../../lib';

/** Call report */
export default function CallReportPage() {
  return <PageHeader title="Call report" description="Coming shortly." />;
}
