import { PageHeader } from '../lib';

/** Page not found */
export default function NotFoundPage() {
  return <PageHeader title="Page not found" description="Coming shortly." />;
}
