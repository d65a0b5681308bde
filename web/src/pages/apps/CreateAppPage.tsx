import { PageHeader } from '../../lib';

/** Create an app */
export default function CreateAppPage() {
  return <PageHeader title="Create an app" description="Coming shortly." />;
}
